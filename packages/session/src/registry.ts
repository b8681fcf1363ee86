import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { SESSION_ID_LENGTH, TOKEN_LENGTH } from './constants.js'

/** A fresh session's credentials: the token goes to the client once; the server keeps its digest. */
export interface Credentials {
  token: Uint8Array
  digest: Buffer
  idBytes: Uint8Array
  id: string
}

function digestOf (token: Uint8Array): Buffer {
  return createHash('sha256').update(token).digest()
}

/**
 * The server's sessions, found by the SHA-256 digest of their token (the token itself is never kept), in
 * hex (`key`, the session's own string), compared in constant time. Bounded by `maxSessions`; the caller decides expiry.
 */
export class Registry<T extends { readonly key: string, readonly id: string }> {
  private readonly byDigest = new Map<string, T>()
  /**
   * Sessions that ended here, by token digest, until when they are remembered, by how they ended: a
   * completed one (its last acknowledgement, of the client's END, may be lost with its connection, and the
   * client then resumes to learn the session is over), one that expired, one the application closed while
   * its client was away: a client coming back learns which, not that the session is unknown. At most
   * `maxSessions` of each, the oldest forgotten first.
   */
  private readonly ended: Record<EndedAs, Remembered> = { completed: new Remembered(), expired: new Remembered(), closed: new Remembered() }

  constructor (readonly maxSessions: number) {}

  get size (): number { return this.byDigest.size }
  get full (): boolean { return this.byDigest.size >= this.maxSessions }

  values (): IterableIterator<T> { return this.byDigest.values() }

  /** New credentials: 16 random token bytes (a digest collision is rerolled), 8 random id bytes. */
  issue (): Credentials {
    for (;;) {
      const token = new Uint8Array(randomBytes(TOKEN_LENGTH))
      const digest = digestOf(token)
      if (this.byDigest.has(digest.toString('hex'))) continue
      const idBytes = new Uint8Array(randomBytes(SESSION_ID_LENGTH))
      return { token, digest, idBytes, id: Buffer.from(idBytes).toString('hex') }
    }
  }

  add (entry: T): void {
    this.byDigest.set(entry.key, entry)
  }

  /** The session this token opens, or `undefined`. */
  find (token: Uint8Array): T | undefined {
    if (token.byteLength !== TOKEN_LENGTH) return undefined
    const digest = digestOf(token)
    const entry = this.byDigest.get(digest.toString('hex'))
    if (entry === undefined || !timingSafeEqual(Buffer.from(entry.key, 'hex'), digest)) return undefined
    return entry
  }

  /** The session with this token digest, or `undefined`. */
  findDigest (digest: Uint8Array): T | undefined {
    if (digest.byteLength !== 32) return undefined
    const entry = this.byDigest.get(Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex'))
    if (entry === undefined || !timingSafeEqual(Buffer.from(entry.key, 'hex'), digest)) return undefined
    return entry
  }

  /** The SHA-256 digest of a token. */
  static digest (token: Uint8Array): Buffer { return digestOf(token) }

  remove (entry: T): void {
    if (this.byDigest.get(entry.key) === entry) this.byDigest.delete(entry.key)
  }

  /** Remembers how the session with this key ended, until `until` (clock ms). */
  markEnded (key: string, how: EndedAs, until: number): void {
    for (const kind of ENDINGS) if (kind !== how) this.ended[kind].forget(key)
    this.ended[how].add(key, until, this.maxSessions)
  }

  /** How the session this token opened ended, if that is still remembered at `now`. */
  endedAs (token: Uint8Array, now: number): EndedAs | undefined {
    if (token.byteLength !== TOKEN_LENGTH) return undefined
    let key: string | undefined
    for (const kind of ENDINGS) {
      const remembered = this.ended[kind]
      if (remembered.size === 0) continue
      key ??= digestOf(token).toString('hex')
      if (remembered.has(key, now)) return kind
    }
    return undefined
  }
}

/** How a session that ended is remembered. */
export type EndedAs = 'completed' | 'expired' | 'closed'
const ENDINGS: readonly EndedAs[] = ['completed', 'expired', 'closed']

/** Keys remembered until a time each, at most a given number (the oldest forgotten first). */
class Remembered {
  private readonly until = new Map<string, number>()

  get size (): number { return this.until.size }

  add (key: string, until: number, max: number): void {
    this.until.delete(key)
    if (this.until.size >= max) {
      const oldest = this.until.keys().next()
      if (oldest.done !== true) this.until.delete(oldest.value)
    }
    this.until.set(key, until)
  }

  forget (key: string): void {
    this.until.delete(key)
  }

  /** Whether `key` is remembered at `now` (a key past its time is forgotten). */
  has (key: string, now: number): boolean {
    const until = this.until.get(key)
    if (until === undefined) return false
    if (until > now) return true
    this.until.delete(key)
    return false
  }
}
