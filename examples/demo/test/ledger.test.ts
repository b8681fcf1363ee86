import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { mergeLedgers, openLedger, readLedger } from '../src/servers/ledger.js'

describe('the servers\' ledgers (--servers)', () => {
  it('are read back as written, and judged together in time order: once, duplicates across servers, order, where each connection landed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-demo-ledger-'))
    try {
      const a = openLedger(join(dir, 'a'))
      const b = openLedger(join(dir, 'b'))
      // server 0 takes 0..4 on connection 1 and dies; server 1 recovers from position 3: 3 and 4 come again, then 5..7 on connection 2
      for (let seq = 0; seq < 5; seq++) a.record(seq, 1, 10 + seq)
      for (let seq = 3; seq < 8; seq++) b.record(seq, 2, 100 + seq)
      b.record(6, 2, 200) // one more duplicate, on the same server
      b.record(1_000, 2, 201) // out of range: corrupt
      a.close()
      b.close()
      const ledgers = [readLedger(join(dir, 'a'), 0), readLedger(join(dir, 'b'), 1)]
      expect(ledgers[0]).toHaveLength(5)
      expect(ledgers[1][0]).toEqual({ seq: 3, epoch: 2, atMs: 103, node: 1 })
      const m = mergeLedgers(ledgers, 10)
      expect(m.tally).toMatchObject({ received: 8, duplicates: 3, outOfOrder: 0, corrupted: 1, receivedByEpoch: [undefined, 5, 3] })
      expect(m.perNode).toEqual([{ received: 5, duplicates: 0, records: 5 }, { received: 3, duplicates: 3, records: 7 }])
      expect(m.nodeByEpoch).toEqual([null, 0, 1])
      expect(m.tally.receivedAt[5]).toBe(105)
      expect(Number.isNaN(m.tally.receivedAt[9])).toBe(true)
      // a new message below the last new one is out of order, whichever server took it
      expect(mergeLedgers([[{ seq: 2, epoch: 1, atMs: 1, node: 0 }], [{ seq: 1, epoch: 2, atMs: 2, node: 1 }]], 3).tally.outOfOrder).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
