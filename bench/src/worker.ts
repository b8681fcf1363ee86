/**
 * A benchmark worker process: `node worker.js server` hosts the receivers, `node worker.js client` runs the
 * senders and echo clients. The orchestrator (`run.js`) drives both over IPC, one step at a time.
 */
import type { SendInit } from './baseline/net.js'
import { serveRequests } from './lib/ipc.js'
import type { Listening } from './lib/listening.js'
import { percentile } from './lib/stats.js'
import { reconnectClientHandlers, reconnectServerHandlers } from './reconnect-probe.js'
import { echoClients, receivers, senders } from './variants.js'

/** What an echo run reports: percentiles of the round trips in µs. */
export interface EchoSummary { count: number, p50: number, p90: number, p99: number, max: number, mean: number }

const role = process.argv[2]

if (role === 'server') {
  const open = new Map<string, Listening>()
  serveRequests({
    async listen ({ kind }: { kind: string }) {
      const existing = open.get(kind)
      if (existing !== undefined) return existing.port
      const start = receivers[kind]
      if (start === undefined) throw new Error(`no receiver ${kind}`)
      const l = await start()
      open.set(kind, l)
      return l.port
    },
    async closeAll () {
      await Promise.all([...open.values()].map(async (l) => { await l.close() }))
      open.clear()
    },
    ...reconnectServerHandlers
  })
} else if (role === 'client') {
  serveRequests({
    async send ({ variant, ...init }: SendInit & { variant: string }) {
      const s = senders[variant]
      if (s === undefined) throw new Error(`no sender ${variant}`)
      return await s.send(init)
    },
    async echo ({ variant, port, size, count, warmup }: { variant: string, port: number, size: number, count: number, warmup: number }): Promise<EchoSummary> {
      const c = echoClients[variant]
      if (c === undefined) throw new Error(`no echo client ${variant}`)
      const samples = await c.echo(port, size, count, warmup)
      samples.sort()
      let sum = 0
      for (const s of samples) sum += s
      return {
        count: samples.length,
        p50: percentile(samples, 0.5),
        p90: percentile(samples, 0.9),
        p99: percentile(samples, 0.99),
        max: samples[samples.length - 1],
        mean: sum / samples.length
      }
    },
    ...reconnectClientHandlers
  })
} else {
  throw new Error('usage: worker.js server|client (started by run.js)')
}
