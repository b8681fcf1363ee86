import { afterEach, describe, expect, it } from 'vitest'
import type { Harness } from './helpers/stack.js'
import { echo, harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

describe('resume across lost connections', () => {
  it('every item arrives exactly once and in order, both ways, while connections are reset mid-stream', async () => {
    h = await harness(echo)
    const harnessed = h
    const client = h.client()
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
    // a cut can also land on a connection still in its handshake: that is a failed dial, not a reconnect
    expect(stats.link.attempts - 1).toBe(aborted)
    expect(stats.sessionsLost).toBe(0)
    expect(h.sessions.length).toBe(1)
    const server = h.sessions[0].stats()
    expect(server.delivered).toBe(N)
    expect(server.link).toMatchObject({ accepted: N, confirmed: N })
  })
})
