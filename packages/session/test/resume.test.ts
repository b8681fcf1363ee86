import type { Frame } from '@proto/codec'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SessionDuplex } from '../src/index.js'
import type { Harness } from './helpers/stack.js'
import { echo, harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

describe('resume across lost connections', () => {
  it('every item arrives exactly once and in order, both ways, while connections are reset mid-stream', async () => {
    h = await harness(echo)
    const harnessed = h
    const client = h.client()
    let disconnects = 0
    client.addEventListener('disconnected', () => { disconnects++ })
    const N = 5_000
    const got: number[] = []
    let cuts = 0
    let aborted = 0
    const abortedIds = new Set<string>()
    const reading = (async () => {
      for await (const f of client.source) {
        got.push(num(f))
        // reset the server's end of the live connection now and then, while both directions are busy
        if (got.length % 700 === 0 && cuts < 5) {
          cuts++
          for (const conn of harnessed.tcp.connections) {
            if (abortedIds.has(conn.id)) continue // still listed until its socket has closed
            abortedIds.add(conn.id)
            conn.abort(new Error('cut'))
            aborted++
          }
        }
      }
    })()
    await client.sink((async function * () { for (let i = 0; i < N; i++) yield item(i, 64) })())
    await reading
    await client.close()
    expect(cuts).toBe(5)
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i))
    const stats = client.stats()
    expect(stats.link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0, unsent: 0 })
    expect(aborted).toBeGreaterThanOrEqual(3)
    // each cut the client noticed made it dial again (one on a connection still in its handshake is a failed
    // dial); a cut after the session had completed (the echo can run far ahead of this reader) changes nothing
    expect(disconnects).toBeGreaterThanOrEqual(1)
    expect(disconnects).toBeLessThanOrEqual(aborted)
    expect(stats.link.attempts - 1).toBe(disconnects)
    expect(stats.sessionsLost).toBe(0)
    expect(h.sessions.length).toBe(1)
    const server = h.sessions[0].stats()
    expect(server.delivered).toBe(N)
    expect(server.link).toMatchObject({ accepted: N, handed: N })
    if (disconnects === aborted) expect(server.link).toMatchObject({ confirmed: N, retained: 0 })
    else {
      // a cut the client never noticed landed after the whole exchange was on the wire: the client read the
      // rest from its buffers, and this test's own close() (which does not linger, unlike the close a complete
      // session makes by itself) ended it before it learned its last acknowledgement went down with the
      // connection. The server still retains what that acknowledgement covered (counted unconfirmed if the
      // session expires): every item was delivered once; the server just cannot know it
      expect(server.link.confirmed + server.link.retained).toBe(N)
    }
  })
})

describe('an application that takes items after the next connection\'s RESUME went out (real TCP)', () => {
  it('the resumed event counts what goes again: not the retained items the server\'s RESUME says it has', async () => {
    const got: number[] = []
    // the server's ACKs wait (5 s): the client still retains items the server's application already has
    h = await harness((session) => { void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {}) }, { ack: { delay: 5_000, frames: 100_000 } })
    const client = h.client()
    let release = (): void => {}
    void client.sink((async function * () {
      yield item(1) // acknowledged soon, as the first delivery of a connection
      while (client.stats().link.confirmed < 1) await new Promise(resolve => setTimeout(resolve, 5))
      for (let i = 2; i <= 5; i++) yield item(i)
      await new Promise<void>((resolve) => { release = resolve })
    })()).catch(() => {})
    await vi.waitFor(() => { expect(got).toEqual([1, 2, 3, 4, 5]) })
    const resumed = new Promise<{ retained: number }>((resolve) => { client.addEventListener('resumed', (e) => { resolve(e.detail) }, { once: true }) })
    const before = client.stats()
    expect(before.link.retained).toBeGreaterThan(0)
    client.reconnect()
    expect((await resumed).retained).toBe(0) // the server has all five: none goes again
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(client.stats().resent).toBe(0)
    expect(got).toEqual([1, 2, 3, 4, 5])
    release()
  })

  it('what the new connection acknowledges beyond its RESUME is written again and dropped as a duplicate: nothing is lost, the ledger is exact', async () => {
    const sessions: SessionDuplex[] = []
    h = await harness((session) => { sessions.push(session) })
    const client = h.client({ onLost: 'fail', initialDelay: 1, maxDelay: 5 })
    let writeRest!: () => void
    const rest = new Promise<void>((resolve) => { writeRest = resolve })
    void client.sink((async function * () {
      for (let i = 0; i < 10; i++) yield item(i)
      await rest
      for (let i = 10; i < 20; i++) yield item(i)
      await new Promise(() => {}) // still writing: the session goes on
    })()).catch(() => {})
    await vi.waitFor(() => { expect(sessions).toHaveLength(1) })
    const session = sessions[0]
    const reader = session.source[Symbol.asyncIterator]()
    // the server's application takes one item; the other nine wait above the connection, not yet taken
    const got = [num((await reader.next()).value)]
    await vi.waitFor(() => { expect(client.stats().sent).toBe(10) })
    await new Promise(resolve => setTimeout(resolve, 100))
    // the client's connection is replaced: the new one's RESUME says the application has 1 item. As the server
    // takes the new connection into use, its application takes one more of the nine, and the new connection
    // acknowledges 2 at once, before the client has numbered its replay
    let taken: Promise<IteratorResult<Frame>> | undefined
    session.addEventListener('connected', () => { taken ??= reader.next() }, { once: true })
    client.reconnect()
    await vi.waitFor(() => { expect(taken).toBeDefined() })
    got.push(num((await taken as IteratorResult<Frame>).value))
    writeRest()
    while (got.length < 20) {
      const r = await Promise.race([reader.next(), new Promise<'idle'>(resolve => setTimeout(() => { resolve('idle') }, 2_000))])
      if (r === 'idle' || r.done === true) break // an item lost for good: nothing more comes
      got.push(num(r.value))
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await vi.waitFor(() => { expect(client.stats().link.confirmed).toBe(20) })
    expect(client.stats().link).toMatchObject({ accepted: 20, confirmed: 20, unconfirmed: 0, retained: 0 })
    expect(session.stats().delivered).toBe(20)
  })
})

describe('a server session\'s own events (real TCP)', () => {
  it('open for a new session, resumed each time its client resumes it, told with that connection\'s connected; resumed counts what goes again', async () => {
    const seen: string[] = []
    let served: SessionDuplex | undefined
    h = await harness((session) => {
      served = session
      session.addEventListener('open', (e) => { seen.push(`open ${e.detail.id === session.id} while ${session.status}`) })
      session.addEventListener('resumed', (e) => { seen.push(`resumed ${e.detail.retained} (possible duplicates ${e.detail.possibleDuplicates}) while ${session.status}`) })
      session.addEventListener('connected', () => { seen.push('connected') })
      session.addEventListener('disconnected', () => { seen.push('disconnected') })
      // three items the client's application does not read yet: none is acknowledged
      void session.sink([item(1), item(2), item(3)]).catch(() => {})
    })
    const client = h.client()
    await vi.waitFor(() => { expect(served?.stats().link.retained).toBe(3) })
    const resumed = new Promise((resolve) => { client.addEventListener('resumed', resolve, { once: true }) })
    client.reconnect()
    await resumed
    const got: number[] = []
    for await (const f of client.source) {
      got.push(num(f))
      if (got.length === 3) break
    }
    expect(got).toEqual([1, 2, 3])
    await vi.waitFor(() => { expect(seen).toHaveLength(5) })
    const server = served as SessionDuplex
    // what the resumed event announced is what went again
    const again = server.stats().resent
    expect(seen).toEqual(['open true while connected', 'connected', 'disconnected', `resumed ${again} (possible duplicates 0) while connected`, 'connected'])
    expect(server.stats().link.attempts).toBe(2)
  })
})
