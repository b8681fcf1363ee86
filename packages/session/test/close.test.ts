import { afterEach, describe, expect, it } from 'vitest'
import type { SessionDuplex, SessionEventMap } from '../src/index.js'
import type { Harness } from './helpers/stack.js'
import { harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Writes items 0, 1, 2 … (a pause every 50) until `stop()`; the count written is `written()`. */
function writer (session: SessionDuplex): { done: Promise<unknown>, stop(): void, written(): number } {
  let stopped = false
  let n = 0
  const done = session.sink((async function * () {
    while (!stopped && n < 200_000) {
      yield item(n++)
      if (n % 50 === 0) await sleep(2)
    }
  })()).then(() => undefined, (err: unknown) => err)
  return { done, stop: () => { stopped = true }, written: () => n }
}

describe('the server closes while the client is still writing (real TCP)', () => {
  it('the client learns the session was closed (it had ended the server\'s direction first), and its ledger accounts for every item', async () => {
    const delivered: number[] = []
    let serverWriting: ReturnType<typeof writer> | undefined
    h = await harness((session) => {
      void (async () => { for await (const f of session.source) delivered.push(num(f)) })().catch(() => {})
      serverWriting = writer(session)
    }, { closeTimeout: 1_000 })
    const client = h.client({ onLost: 'fail', closeTimeout: 1_000 })
    const lost = new Promise<SessionEventMap['session-lost']>((resolve) => {
      client.addEventListener('session-lost', (e) => { resolve(e.detail) }, { once: true })
    })
    const reading = (async () => { for await (const _ of client.source) { /* drained */ } })().then(() => undefined, (err: unknown) => err)
    const writing = writer(client)
    while (delivered.length < 500) await sleep(10)
    const closing = h.server.close()
    // the server ends its writing (END, acknowledged by the client), then closes the session: GOAWAY
    // SESSION_CLOSED and the connection's FIN. The client, still writing, must not stay on a closed connection
    const detail = await Promise.race([lost, sleep(5_000).then(() => undefined)])
    writing.stop()
    serverWriting?.stop()
    await closing
    expect(detail).toMatchObject({ reason: 'closed', action: 'fail' })
    // the server's direction had ended (its END came first): the source ended cleanly; the sink, still
    // running, fails with the loss itself (onLost 'fail')
    expect(await reading).toBeUndefined()
    expect(await writing.done).toMatchObject({ name: 'SessionLostError', reason: 'closed' })
    const link = client.stats().link
    expect(link.unconfirmed).toBe(detail?.unconfirmed)
    // every item the sink took is confirmed (the server's application has it), or counted unconfirmed or unsent
    expect(link.confirmed + link.unconfirmed + link.unsent).toBe(link.accepted)
    expect(delivered.length).toBeGreaterThanOrEqual(link.confirmed)
    expect(delivered.length).toBeLessThanOrEqual(link.confirmed + link.unconfirmed)
    // in order, no duplicates
    expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, i) => i))
  })
})
