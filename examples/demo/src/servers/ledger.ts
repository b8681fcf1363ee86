import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { ServerTally } from '../echo-check.js'
import { newServerTally } from '../echo-check.js'

/** Bytes per ledger record: sequence number (u32), connection number (u32), time (f64, ms since the start of the run). */
const RECORD = 16

/**
 * A server process's ledger: every message its application received for the first time, written to a
 * file with a synchronous write before the echo goes out, so it survives a SIGKILL. The demo reads the
 * ledgers of all its servers at the end and judges the guarantees on them together.
 */
export interface LedgerWriter {
  record(seq: number, epoch: number, atMs: number): void
  close(): void
}

export function openLedger (path: string): LedgerWriter {
  const fd = openSync(path, 'a')
  const record = Buffer.alloc(RECORD)
  return {
    record (seq, epoch, atMs) {
      record.writeUInt32LE(seq, 0)
      record.writeUInt32LE(epoch, 4)
      record.writeDoubleLE(atMs, 8)
      writeSync(fd, record)
    },
    close () { closeSync(fd) }
  }
}

/** One received message, as a ledger holds it, with the server that received it. */
export interface LedgerEntry {
  seq: number
  epoch: number
  atMs: number
  node: number
}

export function readLedger (path: string, node: number): LedgerEntry[] {
  if (!existsSync(path)) return []
  const bytes = readFileSync(path)
  const out: LedgerEntry[] = []
  for (let at = 0; at + RECORD <= bytes.byteLength; at += RECORD) {
    out.push({ seq: bytes.readUInt32LE(at), epoch: bytes.readUInt32LE(at + 4), atMs: bytes.readDoubleLE(at + 8), node })
  }
  return out
}

/** What the servers' ledgers say together. */
export interface MergedLedgers {
  /** The servers' applications as one: a message taken by two servers counts once, and as a duplicate. */
  tally: ServerTally
  /** Per server: messages received first there, and messages another server had already received. */
  perNode: Array<{ received: number, duplicates: number, records: number }>
  /** The server each client connection's messages reached (by connection number; `null`: none reached one). */
  nodeByEpoch: Array<number | null>
}

/**
 * Replays every server's ledger in time order through the same rules as one echo server's check: new
 * messages count once, a message already received (by any server) is a duplicate, and a new message whose
 * sequence number is not above the previous new one is out of order.
 */
export function mergeLedgers (ledgers: LedgerEntry[][], messages: number): MergedLedgers {
  const tally = newServerTally(messages)
  const perNode = ledgers.map(l => ({ received: 0, duplicates: 0, records: l.length }))
  const nodeByEpoch: Array<number | null> = []
  const all = ledgers.flat().sort((a, b) => a.atMs - b.atMs)
  const seen = new Uint8Array(messages)
  let last = -1
  for (const e of all) {
    nodeByEpoch[e.epoch] ??= e.node
    if (e.seq >= messages) { tally.corrupted++; continue }
    if (seen[e.seq] === 1) { tally.duplicates++; perNode[e.node].duplicates++; continue }
    seen[e.seq] = 1
    tally.received++
    perNode[e.node].received++
    tally.receivedAt[e.seq] = e.atMs
    tally.receivedByEpoch[e.epoch] = (tally.receivedByEpoch[e.epoch] ?? 0) + 1
    tally.echoedByEpoch[e.epoch] = (tally.echoedByEpoch[e.epoch] ?? 0) + 1
    if (e.seq <= last) tally.outOfOrder++
    last = e.seq
  }
  for (let i = 0; i < nodeByEpoch.length; i++) nodeByEpoch[i] ??= null
  return { tally, perNode, nodeByEpoch }
}
