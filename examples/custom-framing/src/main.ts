import type { Frame } from '@proto/codec'
import { connectLegacy, LegacyType, startLegacyPeer } from './index.js'

const peer = await startLegacyPeer({ pingEvery: 400 })
console.log(`legacy '!BI' peer on 127.0.0.1:${peer.port} (pings every 400 ms)`)
const link = await connectLegacy(peer.port, { interval: 150, timeout: 1_500 })

let rtts = 0
let enough = (): void => {}
const pingsBothWays = new Promise<void>((resolve) => { enough = resolve })
const check = (): void => { if (rtts >= 2 && peer.pongsReceived >= 2) enough() }
link.addEventListener('rtt', ({ detail: { rtt } }) => { rtts++; console.log(`our ping 0x01 answered by its pong 0x02 in ${rtt.toFixed(2)} ms`); check() })
const poll = setInterval(check, 50)

async function * messages (): AsyncGenerator<Frame> {
  for (const text of ['hello', 'from', '@proto']) {
    console.log(`→ TEXT  ${JSON.stringify(text)}`)
    yield { type: LegacyType.TEXT, body: new TextEncoder().encode(text) }
  }
  await pingsBothWays // stay connected (answering its pings) until pings went both ways
}

await Promise.all([
  link.sink(messages()), // then FIN; the peer ends too
  (async () => {
    for await (const frame of link.source) console.log(`← 0x${frame.type.toString(16).padStart(2, '0')}  ${JSON.stringify(new TextDecoder().decode(frame.body))}`)
  })()
])
clearInterval(poll)
console.log(`its pings: ${peer.pingsSent} sent, our pongs received by it: ${peer.pongsReceived}; our pings: ${link.stats().pingsSent}, its pongs: ${link.stats().pongsReceived}`)
await peer.close()
