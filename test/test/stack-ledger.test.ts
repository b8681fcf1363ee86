import { describe, expect, it } from 'vitest'
import type { Arrival, LedgerInput } from '../src/stack/index.js'
import { checkLedger, messageBody, readMessage } from '../src/stack/index.js'

/** The ledger check the stack tests rely on must catch each way the delivery guarantee can break. */

const arrive = (conn: string, ...seqs: number[]): Arrival[] => seqs.map(seq => ({ client: 1, seq, conn }))

/** Two connections: the first handed 0–4 and was lost after delivering 0–2, the second handed 5–9. */
function healthy (): LedgerInput {
  return {
    count: 10,
    arrivals: [...arrive('a', 0, 1, 2), ...arrive('b', 5, 6, 7, 8, 9)],
    connections: [{ handed: 5, lost: true }, { handed: undefined, lost: false }],
    stats: { handed: 10, unconfirmed: 5, unsent: 0, dropped: 0 },
    echoes: [0, 2, 5]
  }
}

describe('checkLedger', () => {
  it('accepts a stream that kept the guarantee, and counts its losses', () => {
    expect(checkLedger(healthy())).toEqual({
      handed: 10, delivered: 8, lost: 2, unconfirmed: 5, duplicates: 0, arrivalInversions: 0, lostConnections: 1, violations: []
    })
  })

  it('treats the last connection as unconfirmed when close() could not finish it cleanly', () => {
    const input = { ...healthy(), echoes: [0, 2], arrivals: arrive('a', 0, 1, 2, 3, 4), stats: { handed: 10, unconfirmed: 10, unsent: 0, dropped: 0 } }
    expect(checkLedger(input)).toMatchObject({ lost: 5, lostConnections: 2, violations: [] })
  })

  it.each<[string, (i: LedgerInput) => LedgerInput, RegExp]>([
    ['a duplicate', i => ({ ...i, arrivals: [...i.arrivals, ...arrive('b', 9)] }), /duplicate/],
    ['reordering inside a connection', i => ({ ...i, arrivals: [...arrive('a', 0, 2, 1), ...arrive('b', 5, 6, 7, 8, 9)] }), /out of order/],
    ['interleaved connections', i => ({ ...i, arrivals: [...arrive('a', 0, 1, 6), ...arrive('b', 5, 7, 8, 9)] }), /interleaved/],
    ['a hole in a lost connection', i => ({ ...i, arrivals: [...arrive('a', 0, 2), ...arrive('b', 5, 6, 7, 8, 9)] }), /lost seq 1 but delivered later/],
    ['a loss on a connection that was not lost', i => ({ ...i, arrivals: [...arrive('a', 0, 1, 2), ...arrive('b', 5, 6, 7, 8)] }), /was not lost, yet seq 9/],
    ['unconfirmed not matching the lost connections', i => ({ ...i, stats: { ...i.stats, unconfirmed: 4 } }), /stats.unconfirmed is 4/],
    ['an item that was never handed', i => ({ ...i, stats: { ...i.stats, handed: 9, unsent: 1 }, connections: [{ handed: 5, lost: true }, { handed: undefined, lost: false }] }), /arrived but only 9 were handed/],
    ['a connection replaced silently', i => ({ ...i, connections: [{ handed: undefined, lost: false }, { handed: undefined, lost: false }] }), /without a 'disconnected' event/],
    ['items unaccounted for', i => ({ ...i, count: 11 }), /!= 11 produced/],
    ['an echo the server never received', i => ({ ...i, echoes: [0, 3] }), /never received it/],
    ['echoes out of order', i => ({ ...i, echoes: [2, 0] }), /echo seq 0 after 2/]
  ])('reports %s', (_, mutate, message) => {
    const report = checkLedger(mutate(healthy()))
    expect(report.violations.some(v => message.test(v))).toBe(true)
  })

  it('message bodies round-trip and any changed byte is caught', () => {
    const body = messageBody(3, 77, 100)
    expect(readMessage(body)).toEqual({ client: 3, seq: 77, size: 100 })
    body[50] ^= 1
    expect(readMessage(body)).toBeUndefined()
    expect(readMessage(new Uint8Array(4))).toBeUndefined()
  })
})
