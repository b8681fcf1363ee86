import type { Frame } from '@proto/codec'
import { codec, FrameType, GoAwayCode } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { Connection, DisconnectInfo } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * Guarantees checked: ending a heartbeat connection gracefully loses nothing. `close()` hands down every
 * frame its sink accepted, however long a slow reader takes, then FIN, then waits for the peer; when a
 * server closes (`server.close()` aborts each connection's `goingAway`, forwarded by the codec), the stage
 * sends GOAWAY SHUTTING_DOWN, flushes what it had taken, ends its writing and the peers finish cleanly
 * (no reset, long before the close deadline): every frame either side accepted is delivered, or counted
 * (`unsentFrames`), busy and idle clients alike.
 */

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const text = (f: Frame): string => new TextDecoder().decode(f.body)
const frame = (s: string): Frame => ({ type: FrameType.DATA, body: new TextEncoder().encode(s) })

describe('heartbeat: graceful ends over real sockets', () => {
  it('a server that closes after reading 100 messages delivers every frame its sink accepted to a slow client', async () => {
    const N = 1000
    const SIZE = 64 * 1024
    let serverDone!: (r: unknown) => void
    const serverResult = new Promise((resolve) => { serverDone = resolve })
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
      const link = heartbeat(codec(conn), { closeTimeout: 2000 })
      const sinking = link.sink(Array.from({ length: N }, (_, i) => ({ type: FrameType.DATA, body: new Uint8Array(SIZE).fill(i & 0xff) })))
      const it = link.source[Symbol.asyncIterator]()
      for (let n = 0; n < 100; n++) await it.next()
      serverDone(await Promise.allSettled([sinking, link.close()]))
    })
    cleanups.push(async () => { await server.close({ deadline: 0 }) })
    const conn = await connect({ host: '127.0.0.1', port: (server.address as { port: number }).port })
    const link = heartbeat(codec(conn))
    const got: number[] = []
    // about 3 ms per frame: the whole transfer takes longer than the server's closeTimeout, but never stalls
    const reading = (async () => {
      for await (const f of link.source) {
        got.push(f.body[0])
        await new Promise(resolve => setTimeout(resolve, 3))
      }
    })()
    await link.sink((async function * () {
      for (let i = 0; i < 100; i++) yield frame(`q${i}`)
      await reading // keep our side open until everything was read
    })())
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i & 0xff))
    expect(await serverResult).toEqual([{ status: 'fulfilled', value: undefined }, { status: 'fulfilled', value: undefined }])
    expect((await conn.closed).reason).toBe('closed')
  })

  it('server.close() under load: GOAWAY SHUTTING_DOWN, every echo the server took is delivered or counted, busy and idle clients end cleanly', async () => {
    const CLIENTS = 4
    interface ServerSide { link: HeartbeatDuplex, taken: number, closed: Promise<DisconnectInfo> }
    const servers: ServerSide[] = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn: Connection) => {
      const link = heartbeat(codec(conn), { interval: 200, timeout: 2000 })
      const side: ServerSide = { link, taken: 0, closed: conn.closed }
      servers.push(side)
      // echo, counting every frame the stage's sink takes from its source (whole batches at a time)
      const src = link.source
      const counted = {
        [Symbol.asyncIterator]: () => counted,
        next: async () => await src.next(),
        nextBatch: async () => {
          const batch = await src.nextBatch()
          if (batch !== undefined) side.taken += batch.length
          return batch
        },
        return: async () => await src.return?.() ?? { done: true as const, value: undefined }
      }
      await link.sink(counted)
      await link.close().catch(() => {})
    })
    cleanups.push(async () => { await server.close({ deadline: 0 }) })
    const port = (server.address as { port: number }).port

    const clients = await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      const conn = await connect({ host: '127.0.0.1', port })
      const link = heartbeat(codec(conn), { interval: 200, timeout: 2000 })
      const state = { conn, link, sent: 0, echoes: [] as string[], goaway: undefined as number | undefined, error: undefined as Error | undefined, stop: false }
      link.addEventListener('goaway', (e) => { state.goaway = e.detail.code })
      const writing = link.sink((async function * () {
        // a steady stream (bounded: at most 200 000 messages, about 20 s) until the server goes away
        while (!state.stop && state.sent < 200_000) {
          yield frame(`c${c}-${state.sent++}`)
          if (state.sent % 10 === 0) await new Promise(resolve => setTimeout(resolve, 1))
        }
      })())
      const done = (async () => {
        try {
          for await (const f of link.source) state.echoes.push(text(f))
        } catch (err) {
          state.error = err as Error
        }
        state.stop = true // the server is going away: finish our side too
        await writing
        await link.close()
      })()
      return { state, done }
    }))
    cleanups.push(() => { for (const c of clients) c.state.link.abort(new Error('test over')) })
    // and a client that sends nothing: it must hear GOAWAY and FIN at once, not a reset at the deadline
    const idleConn = await connect({ host: '127.0.0.1', port })
    const idle = heartbeat(codec(idleConn), { interval: 10_000, timeout: 30_000 })
    const idleEnd = (async () => {
      let ended: Error | undefined
      try {
        for await (const _ of idle.source) throw new Error('the idle client got data')
      } catch (err) {
        ended = err as Error
      }
      await idle.close() // it never wrote: closing ends its side
      return ended
    })()

    // under load: wait until every client has had echoes, then close the server with a long deadline
    while (clients.some(c => c.state.echoes.length < 200) || servers.length < CLIENTS + 1) await new Promise(resolve => setTimeout(resolve, 5))
    const closing = server.close({ deadline: 20_000 })
    await Promise.all(clients.map(async (c) => { await c.done }))
    expect(await idleEnd).toMatchObject({ name: 'GoAwayError', code: GoAwayCode.SHUTTING_DOWN, final: false })
    expect((await idleConn.closed).reason).toBe('closed')
    await closing

    for (const { state } of clients) {
      expect(state.goaway).toBe(GoAwayCode.SHUTTING_DOWN)
      expect(state.error).toMatchObject({ name: 'GoAwayError', code: GoAwayCode.SHUTTING_DOWN, final: false })
      // the echoes are exactly a prefix of what was sent: nothing lost in between, nothing duplicated
      const c = state.echoes[0].split('-')[0]
      expect(state.echoes).toEqual(Array.from({ length: state.echoes.length }, (_, i) => `${c}-${i}`))
      expect(state.echoes.length).toBeLessThanOrEqual(state.sent)
      expect((await state.conn.closed).reason).toBe('closed')
    }
    // the server's ledger: every frame its sink took went out, or is counted as unsent
    const echoed = clients.reduce((n, c) => n + c.state.echoes.length, 0)
    const taken = servers.reduce((n, s) => n + s.taken, 0)
    const unsent = servers.reduce((n, s) => n + s.link.stats().unsentFrames, 0)
    expect(taken).toBe(echoed + unsent)
    // no reset and no abort at the deadline ('server-closed'): both sides of every connection finished
    for (const s of servers) expect((await s.closed).reason).toBe('closed')
  })
})
