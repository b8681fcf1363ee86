import type { LostPolicy } from '@proto/session'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { afterEach, describe, expect, it } from 'vitest'
import type { ServedSession } from '../src/session/index.js'
import { SessionTestClient, SessionTestServer } from '../src/session/index.js'

/**
 * A server restart that loses every session: its connections are dropped without a word and a new, empty
 * server listens on the same port. Each client's resume is refused (SESSION_UNKNOWN); it reports the exact
 * number of items it sent that were never acknowledged, then re-sends them into a new session
 * (`onLost: 'replay'`, at-least-once) or gives them up (`'drop'`). Checked per client, to the item:
 * - client → server: what the old server's application read is a prefix in order; what the new one read
 *   continues from the oldest unacknowledged item in order; together they hold every item (replay), and
 *   what arrived twice, or never (drop), lies within the reported count;
 * - server → client: the client read a prefix of the old session's stream, then the new session's whole
 *   stream; what the old server wrote and the client never read lies within its own unconfirmed + unsent;
 * - every ledger sums exactly.
 */

const CLIENTS = 12
const COUNT = 120
const CRASH_AFTER = 50

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
const pace = (): Promise<void> => new Promise<void>((resolve) => { setTimeout(resolve, 10).unref() })

describe('sessions: a server restart that loses every session', () => {
  it('every item that may be lost or duplicated is reported by count, on both sides; nothing is silent', async () => {
    const before = resourceSnapshot()
    const server = await SessionTestServer.start({ heartbeat: { interval: 200, timeout: 1_000 }, count: COUNT, before: pace })
    cleanup.push(async () => { await server.stop() })
    const clients = Array.from({ length: CLIENTS }, (_, i) => new SessionTestClient({
      id: i + 1,
      port: server.port,
      count: COUNT,
      before: pace,
      onLost: (i % 2 === 0 ? 'replay' : 'drop') satisfies LostPolicy,
      session: { initialDelay: 5, maxDelay: 50 }
    }))
    for (const c of clients) cleanup.push(async () => { c.session.abort(new Error('test over')) })
    const sending = Promise.all(clients.map(async (c) => { await c.send() }))
    await server.changed.until(() => clients.every(c => server.receivedFrom(c.init.id).length >= CRASH_AFTER), 'every client half-way')
    const oldSessions = [...server.sessions]
    await server.crash()
    await sending
    // each client's source ends with the new session's END, after the whole of the new server's stream
    await Promise.all(clients.map(async (c) => { await c.read() }))
    await server.changed.until(() => clients.every(c => server.receivedFrom(c.init.id).length >= COUNT - CRASH_AFTER), 'the new server to hear from every client')
    await Promise.all(clients.map(async (c) => { await c.close() }))
    const fresh = server.sessions.filter(s => !oldSessions.includes(s))
    await server.changed.until(() => fresh.every(s => s.readDone && s.writeDone), 'the new sessions to end')
    await server.stop() // aborts the crashed server's sessions too: their ledgers are final now
    cleanup = []

    const violations: string[] = []
    for (const c of clients) {
      const id = c.init.id
      const policy = c.init.onLost
      const [old, ...more] = oldSessions.filter(s => s.client === id)
      const renewed = fresh.filter(s => s.client === id)
      if (old === undefined || more.length > 0 || renewed.length !== 1) { violations.push(`client ${id}: ${oldSessions.length} old, ${renewed.length} new sessions`); continue }
      const neu = renewed[0]
      const lost = c.lost[0]
      const stats = c.session.stats()
      if (lost.reason !== 'unknown') violations.push(`client ${id}: lost for ${lost.reason}`)
      // client → server
      const atOld = old.received
      if (JSON.stringify(atOld) !== JSON.stringify(range(0, atOld.length))) violations.push(`client ${id}: the old server did not read a prefix in order`)
      const first = neu.received[0] ?? COUNT
      if (JSON.stringify(neu.received) !== JSON.stringify(range(first, COUNT))) violations.push(`client ${id}: the new server did not read ${first}…${COUNT - 1} in order`)
      const confirmedAtLoss = COUNT - neu.received.length - (policy === 'drop' ? lost.unconfirmed : 0)
      if (policy === 'replay') {
        if (first > atOld.length) violations.push(`client ${id}: items ${atOld.length}…${first - 1} never arrived`)
        const twice = atOld.length - first
        if (twice < 0 || twice > lost.unconfirmed) violations.push(`client ${id}: ${twice} items arrived twice, reported ${lost.unconfirmed}`)
        if (stats.resentAfterLoss !== lost.unconfirmed || first !== confirmedAtLoss) violations.push(`client ${id}: resent ${stats.resentAfterLoss}, reported ${lost.unconfirmed}, new session began at ${first}`)
      } else {
        const never = Math.max(0, first - atOld.length)
        if (never > lost.unconfirmed || first - confirmedAtLoss !== lost.unconfirmed) violations.push(`client ${id}: ${never} items never arrived, ${lost.unconfirmed} reported, new session began at ${first}`)
        if (stats.droppedAfterLoss !== lost.unconfirmed || stats.link.unconfirmed !== lost.unconfirmed) violations.push(`client ${id}: dropped ${stats.droppedAfterLoss}, link unconfirmed ${stats.link.unconfirmed}, reported ${lost.unconfirmed}`)
      }
      const l = stats.link
      if (l.accepted !== COUNT || l.confirmed + l.unconfirmed !== COUNT || l.unsent + l.dropped + l.rejected + l.retained + l.buffered !== 0) violations.push(`client ${id} ledger: ${JSON.stringify(l)}`)
      // server → client: a prefix of the old session's stream, then the whole of the new one's
      const fromOld = c.received.length - COUNT
      if (JSON.stringify(c.received) !== JSON.stringify([...range(0, fromOld), ...range(0, COUNT)])) violations.push(`client ${id} read ${JSON.stringify(c.received.slice(0, 5))}… not an old prefix then 0…${COUNT - 1}`)
      violations.push(...oldLedger(id, old, fromOld))
      const nl = neu.duplex.stats().link
      if (nl.accepted !== COUNT || nl.confirmed !== COUNT) violations.push(`new session of client ${id}: ${JSON.stringify(nl)}`)
    }
    expect(violations).toEqual([])
    expect(clients.every(c => c.lost.length === 1)).toBe(true)
    // the restart hit mid-stream: items were in flight and had to be reported (and re-sent or dropped)
    expect(clients.some(c => c.lost[0].unconfirmed > 0)).toBe(true)
    expect(await waitForResources(before, 5_000)).toEqual([])
  }, 60_000)
})

/** The crashed server's session of `client`: everything it wrote is read by the client or counted. */
function oldLedger (client: number, old: ServedSession, read: number): string[] {
  const l = old.duplex.stats().link
  const out: string[] = []
  if (l.accepted !== l.confirmed + l.unconfirmed + l.unsent + l.waiting) out.push(`old session of client ${client}: ledger ${JSON.stringify(l)}`)
  if (l.confirmed > read) out.push(`old session of client ${client}: ${l.confirmed} confirmed but the client read ${read}`)
  if (l.accepted - read > l.unconfirmed + l.unsent + l.waiting) out.push(`old session of client ${client}: ${l.accepted - read} written items unread, only ${l.unconfirmed + l.unsent + l.waiting} counted`)
  return out
}
