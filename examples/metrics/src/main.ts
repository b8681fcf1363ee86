import { exchange, observedClient, startObservedServer } from './metrics.js'

const keep = process.argv.includes('--keep')
const observed = await startObservedServer({ metricsPort: Number(process.env.METRICS_PORT ?? 0) })
console.log(`echo server on 127.0.0.1:${observed.port}; metrics at ${observed.metricsUrl}`)

const link = observedClient(observed.port, observed.metrics)
const echoed = await exchange(link, 100)
console.log(`100 sent, ${echoed} echoed`)

const text = await (await fetch(observed.metricsUrl)).text()
console.log(text.split('\n').filter(line => line.startsWith('proto_') && !line.includes('_bucket')).join('\n'))

if (keep) {
  console.log(`serving until Ctrl-C: curl ${observed.metricsUrl}`)
  await new Promise<void>((resolve) => { process.once('SIGINT', () => { resolve() }) })
}
await link.close()
await observed.close()
