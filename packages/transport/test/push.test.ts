import type { PushSource, PushTarget } from '@proto/interface'
import { describe, expect, it } from 'vitest'
import type { Connection } from '../src/index.js'
import { connect, listen, memoryPair } from '../src/index.js'
import { portOf, readAll, settle } from './helpers.js'

/**
 * Push mode on a connection (`PushSource`/`PushTarget` from @proto/interface): a source that pushes into
 * `conn.sink`, and a stage that subscribes to `conn.source`.
 */

/** A push source that hands out `count` one-byte-numbered chunks of `size` bytes whenever it may. */
function pushingChunks (count: number, size: number): PushSource<Uint8Array> & AsyncIterable<Uint8Array> & { sent: number, refused: number, resumed: number, returned: boolean } {
  let target: PushTarget<Uint8Array> | undefined
  let waiting = false
  const source = {
    sent: 0,
    refused: 0,
    resumed: 0,
    returned: false,
    subscribe (t: PushTarget<Uint8Array>): void {
      target = t
      setImmediate(pump)
    },
    resume (): void {
      source.resumed++
      waiting = false
      setImmediate(pump)
    },
    return (): void { source.returned = true },
    [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> { throw new Error('expected push mode, but the sink pulled') }
  }
  function pump (): void {
    while (target !== undefined && !waiting && !source.returned && source.sent < count) {
      const chunk = new Uint8Array(size).fill(source.sent % 256)
      source.sent++
      if (!target.push([chunk])) {
        source.refused++
        waiting = true
      }
    }
    if (source.sent === count && !waiting && target !== undefined) {
      const t = target
      target = undefined
      t.end()
    }
  }
  return source
}

describe('push mode on a connection', () => {
  it('a pushing sink source is written in order, told to wait while the peer does not read, and resumed on drain', async () => {
    const [a, b] = memoryPair({ highWaterMark: 16 * 1024 })
    // 1 MiB: more than the peer's read queue (READ_HIGH_WATER_MARK) and the pair's buffer hold
    const COUNT = 1024
    const source = pushingChunks(COUNT, 1024)
    const writing = settle(a.sink(source))
    // the peer does not read yet: the source is told to wait and stops well before the end
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(source.refused).toBeGreaterThan(0)
    expect(source.sent).toBeLessThan(COUNT)
    const got = await readAll(b)
    expect((await writing).ok).toBe(true)
    expect(source.resumed).toBeGreaterThan(0)
    expect(got.length).toBe(COUNT * 1024)
    for (let i = 0; i < COUNT; i++) expect(got[i * 1024]).toBe(i % 256)
  })

  it('a pushing sink source is released when the connection fails', async () => {
    const [a, b] = memoryPair({ highWaterMark: 4 * 1024 })
    const source = pushingChunks(1_000, 1024)
    const writing = settle(a.sink(source))
    await new Promise(resolve => setTimeout(resolve, 20))
    a.abort(new Error('gone'))
    const r = await writing
    expect(r.ok).toBe(false)
    expect(r.ok ? undefined : (r.error as Error).message).toBe('gone')
    expect(source.returned).toBe(true)
    await settle(readAll(b))
  })

  it('a subscribed stage gets chunks in the read callback, stops taking them with false, and gets what queued meanwhile in order, then the end', async () => {
    const [a, b] = memoryPair()
    const got: number[] = []
    let ended: Error | undefined | null = null
    let full = false
    const source = b.source[Symbol.asyncIterator]() as unknown as PushSource<Uint8Array>
    source.subscribe({
      push (chunks) {
        for (const c of chunks) got.push(...c)
        return !full
      },
      end (err) { ended = err }
    })
    const writing = a.sink((async function * () {
      for (let i = 0; i < 20; i++) {
        yield new Uint8Array([i])
        await new Promise(resolve => setImmediate(resolve))
        if (i === 4) full = true
      }
    })())
    await writing
    await new Promise(resolve => setTimeout(resolve, 20))
    // once the target answered false (the first chunk after `full` was set), the rest waited in the queue
    expect(got.length).toBeLessThan(20)
    expect(ended).toBeNull()
    full = false
    source.resume()
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(ended).toBeUndefined()
  })
})

/** A sink watcher recording how the run ended, and whether it was told from within the call that started it. */
function watcher (): { onSinkEnd(err?: Error): void, ends: Array<Error | undefined>, ended: Promise<Error | undefined>, syncCalls: number, starting: boolean } {
  let done: (err: Error | undefined) => void = () => {}
  const w = {
    ends: [] as Array<Error | undefined>,
    syncCalls: 0,
    starting: false,
    ended: new Promise<Error | undefined>((resolve) => { done = resolve }),
    onSinkEnd (err?: Error): void {
      if (w.starting) w.syncCalls++
      w.ends.push(err)
      done(err)
    }
  }
  return w
}

describe('sinkPush: a pushing source with a watcher instead of a promise', () => {
  it('writes in order with backpressure, then sends FIN and tells the watcher once, from a microtask', async () => {
    const [a, b] = memoryPair({ highWaterMark: 16 * 1024 })
    const COUNT = 512
    const source = pushingChunks(COUNT, 1024)
    const w = watcher()
    w.starting = true
    a.sinkPush(source, w)
    w.starting = false
    const got = await readAll(b) // ends with FIN
    expect(await w.ended).toBeUndefined()
    expect(w.ends).toEqual([undefined])
    expect(w.syncCalls).toBe(0)
    expect(source.refused).toBeGreaterThan(0)
    expect(source.resumed).toBeGreaterThan(0)
    expect(got.length).toBe(COUNT * 1024)
    for (let i = 0; i < COUNT; i++) expect(got[i * 1024]).toBe(i % 256)
  })

  it('over real TCP: the peer reads everything, then FIN, and the watcher is told; a reset by the peer reaches the watcher', async () => {
    const accepted: Connection[] = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, (conn) => { accepted.push(conn) })
    try {
      const client = await connect({ host: '127.0.0.1', port: portOf(server) })
      await expect.poll(() => accepted.length).toBe(1)
      const COUNT = 256
      const source = pushingChunks(COUNT, 4096)
      const w = watcher()
      ;(accepted[0] as Connection).sinkPush(source, w)
      const got = await readAll(client)
      expect(await w.ended).toBeUndefined()
      expect(got.length).toBe(COUNT * 4096)
      for (let i = 0; i < COUNT; i++) expect(got[i * 4096]).toBe(i % 256)
      await client.close()

      // a peer that resets while the server's sink runs
      const second = await connect({ host: '127.0.0.1', port: portOf(server) })
      await expect.poll(() => accepted.length).toBe(2)
      const endless = pushingChunks(1_000_000, 4096)
      const w2 = watcher()
      ;(accepted[1] as Connection).sinkPush(endless, w2)
      second.abort(new Error('peer gone'))
      const err = await w2.ended
      expect(err).toBeInstanceOf(Error)
      expect(w2.ends).toHaveLength(1)
      expect(endless.returned).toBe(true)
    } finally {
      await server.close({ deadline: 100 })
    }
  })

  it('tells the watcher the failure when the connection fails, and releases the source', async () => {
    const [a, b] = memoryPair({ highWaterMark: 4 * 1024 })
    const source = pushingChunks(1_000, 1024)
    const w = watcher()
    a.sinkPush(source, w)
    await new Promise(resolve => setTimeout(resolve, 20))
    a.abort(new Error('gone'))
    expect((await w.ended)?.message).toBe('gone')
    expect(w.ends).toHaveLength(1)
    expect(source.returned).toBe(true)
    await settle(readAll(b))
  })

  it('a second sink is refused through the watcher (never synchronously), and close() waits for a watched sink to finish', async () => {
    const [a, b] = memoryPair()
    const source = pushingChunks(4, 16)
    const first = watcher()
    a.sinkPush(source, first)
    const second = watcher()
    second.starting = true
    a.sinkPush(pushingChunks(1, 1), second)
    second.starting = false
    expect((await second.ended)?.name).toBe('ConnectionClosedError')
    expect(second.syncCalls).toBe(0)
    // the peer reads to the end, then finishes its side, as a well-behaved peer does
    const reading = readAll(b).then(async (data) => { await b.close(); return data })
    await a.close()
    expect(first.ends).toEqual([undefined]) // close() waited for the running sink: it ended first
    expect((await reading).length).toBe(4 * 16)
  })
})
