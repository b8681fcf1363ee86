import { codec } from '@proto/codec'
import { startFaultProxy } from '@proto/fault-proxy'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * The heartbeat stage over `@proto/transport` (its own package's tests use plain sockets): a black-holed
 * peer is detected and the transport connection is aborted with the stage's typed reason.
 */

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function drain (hb: HeartbeatDuplex): Promise<Error | undefined> {
  try {
    for await (const _ of hb.source) { /* drain */ }
    return undefined
  } catch (err) {
    return err as Error
  }
}

describe('heartbeat over @proto/transport', () => {
  it('a black-holed peer is detected and the connection aborted with the typed reason', async () => {
    let serverSide: HeartbeatDuplex | undefined
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
      serverSide = heartbeat(codec(conn), { interval: 0, timeout: 0 }) // answers pings only
      await drain(serverSide)
    })
    cleanups.push(async () => { await server.close({ deadline: 0 }) })
    cleanups.push(() => { serverSide?.abort(new Error('test over')) })
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: (server.address as { port: number }).port }, seed: 1 })
    cleanups.push(async () => { await proxy.close() })
    const conn = await connect({ host: '127.0.0.1', port: proxy.port })
    const client = heartbeat(codec(conn), { interval: 100, timeout: 400 })
    const reading = drain(client)
    let rtts = 0
    await new Promise<void>((resolve) => { client.addEventListener('rtt', () => { if (++rtts === 2) resolve() }) })
    expect(serverSide?.stats().pongsSent).toBeGreaterThanOrEqual(2)
    const cut = performance.now()
    proxy.blackHole()
    expect((await reading)?.name).toBe('HeartbeatTimeoutError')
    expect(performance.now() - cut).toBeLessThan(400 + 1000) // the timeout plus generous slack
    const info = await conn.closed
    expect(info.reason).toBe('aborted')
    expect(info.error?.name).toBe('HeartbeatTimeoutError')
  })
})
