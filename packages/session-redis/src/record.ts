import type { Frame } from '@proto/codec'
import type { RestoredSession, SessionSnapshot } from '@proto/session'

/** A session's two keys, in one Cluster slot (the hash tag is the token digest). */
export interface SessionKeys {
  hash: string
  list: string
}

export function sessionKeys (prefix: string, digestHex: string): SessionKeys {
  const hash = `${prefix}s:{${digestHex}}`
  return { hash, list: `${hash}:j` }
}

export function nodeKey (prefix: string, nodeId: string): string { return `${prefix}n:${nodeId}` }
/** Set by the first node that finds Redis holding none of it: Redis has not been emptied since. */
export function filledKey (prefix: string): string { return `${prefix}filled` }
/** Lives for a refill window after a node found Redis emptied: the live nodes are writing their sessions back. */
export function refillKey (prefix: string): string { return `${prefix}refill` }
export function nodeChannel (prefix: string, nodeId: string): string { return `${prefix}c:${nodeId}` }

const opt = (n: number | undefined): string => n === undefined ? '' : String(n)

/** A frame as one list entry: its type byte, then its body. */
export function encodeFrame (frame: Frame): Buffer {
  const out = Buffer.allocUnsafe(1 + frame.body.byteLength)
  out[0] = frame.type
  out.set(frame.body, 1)
  return out
}

export function decodeFrame (entry: Buffer): Frame {
  return { type: entry[0], body: new Uint8Array(entry.subarray(1)) }
}

/** PERSIST's arguments after the keys, up to (not including) the frames. */
export function persistArgs (snap: SessionSnapshot, epoch: number, owner: string, ttl: number, release: boolean, first: number): Array<string | Buffer> {
  return [
    String(epoch), owner, String(ttl), snap.id, String(snap.outAcked), String(snap.outSent), String(snap.received),
    opt(snap.endAt), snap.endAcked ? '1' : '0', opt(snap.peerEndAt), snap.inEnded ? '1' : '0',
    JSON.stringify(snap.attributes), release ? '1' : '0', String(first), snap.recovered === true ? '1' : '0'
  ]
}

/** What CLAIM returned: the previous owner, the new epoch, the session. */
export interface Claimed {
  previousOwner: string
  epoch: number
  session: RestoredSession
}

const num = (b: Buffer | undefined, fallback = 0): number => b === undefined || b.length === 0 ? fallback : Number(b.toString())
const optNum = (b: Buffer | undefined): number | undefined => b === undefined || b.length === 0 ? undefined : Number(b.toString())

/** Reads CLAIM's reply: { previous owner, epoch, field count, fields and values…, frames… }. */
export function parseClaim (reply: Buffer[], digest: Uint8Array): Claimed {
  const previousOwner = reply[0].toString()
  const epoch = Number(reply[1].toString())
  const n = Number(reply[2].toString())
  const h = new Map<string, Buffer>()
  for (let i = 0; i < n; i += 2) h.set(reply[3 + i].toString(), reply[4 + i])
  const frames = reply.slice(3 + n).map(decodeFrame)
  const id = h.get('i')?.toString() ?? ''
  const outAcked = num(h.get('ob'))
  const jb = num(h.get('jb'), outAcked)
  // frames below what was acknowledged (a trim not yet persisted) are dropped here
  const journal = frames.slice(Math.max(0, outAcked - jb))
  return {
    previousOwner,
    epoch,
    session: {
      // handed over before its client heard that it had been recovered: still a recovered copy
      origin: previousOwner !== '' || h.get('rc')?.toString() === '1' ? 'recovered' : 'handover',
      id,
      idBytes: new Uint8Array(Buffer.from(id, 'hex')),
      digest,
      outAcked,
      outSent: Math.max(num(h.get('os')), outAcked),
      received: num(h.get('r')),
      endAt: optNum(h.get('ea')),
      endAcked: h.get('ek')?.toString() === '1',
      peerEndAt: optNum(h.get('pe')),
      inEnded: h.get('ie')?.toString() === '1',
      journal,
      attributes: JSON.parse(h.get('a')?.toString() ?? '{}') as Record<string, string>
    }
  }
}

/**
 * What to persist of a session that received nothing since the previous flush (`prev`), while it keeps
 * writing: the previous snapshot, as it was (positions, journal and attributes together), trimmed by what
 * the client has acknowledged since. A frame the client acknowledges within one interval is then never
 * written to Redis, and the copy stays consistent, one interval behind. `undefined` when the current
 * snapshot is to be persisted: something came in (the ACKs the client waits for follow the persist), or
 * nothing was written since `prev` (the copy catches up).
 */
export function laggedSnapshot (prev: SessionSnapshot | undefined, cur: SessionSnapshot): SessionSnapshot | undefined {
  if (prev === undefined || cur.received !== prev.received || cur.peerEndAt !== prev.peerEndAt || cur.inEnded !== prev.inEnded) return undefined
  const prevEnd = prev.outAcked + prev.journal.length
  const curEnd = cur.outAcked + cur.journal.length
  if (curEnd === prevEnd && cur.endAt === prev.endAt && sameAttributes(cur.attributes, prev.attributes)) return undefined
  const acked = Math.max(prev.outAcked, Math.min(cur.outAcked, prevEnd))
  const lagged: SessionSnapshot = { ...prev, outAcked: acked, outSent: Math.max(prev.outSent, acked), journal: prev.journal.slice(acked - prev.outAcked) }
  // whether the client heard of a recovery is as it is now (nothing came in since `prev`)
  if (cur.recovered === true) lagged.recovered = true
  else delete lagged.recovered
  return lagged
}

function sameAttributes (a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (a[k] !== b[k]) return false
  return true
}
