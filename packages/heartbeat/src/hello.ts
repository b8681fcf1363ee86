import type { Hello } from '@proto/codec'

const NONE: Promise<Hello | undefined> = Promise.resolve(undefined)

/** What the stage asks of the slot holding the peer's HELLO. */
export interface PeerHelloSlot {
  readonly promise: Promise<Hello | undefined>
  accepted(hello: Hello): void
  ended(): void
}

/**
 * The peer's HELLO, for the stage above (`peerHello`): set once the HELLO was accepted, `undefined` once the
 * stage ends without one. The promise is made only when someone asks for it.
 */
export class PeerHello implements PeerHelloSlot {
  private hello: Hello | undefined
  private settled = false
  private waiting: Promise<Hello | undefined> | undefined
  private resolve: ((hello: Hello | undefined) => void) | undefined

  /** With `hello: false` there is nothing to wait for. */
  static readonly none: PeerHelloSlot = { get promise (): Promise<Hello | undefined> { return NONE }, accepted () {}, ended () {} }

  /**
   * While no HELLO was accepted, one promise for every caller; once settled, a settled promise made per call,
   * so none is kept for the connection's life.
   */
  get promise (): Promise<Hello | undefined> {
    if (this.settled) return Promise.resolve(this.hello)
    this.waiting ??= new Promise((resolve) => { this.resolve = resolve })
    return this.waiting
  }

  /** The peer's HELLO was accepted (the negotiated values are in force). */
  accepted (hello: Hello): void {
    this.settle(hello)
  }

  /** The stage ended (or failed) before any HELLO was accepted. */
  ended (): void {
    this.settle(undefined)
  }

  private settle (hello: Hello | undefined): void {
    if (this.settled) return
    this.settled = true
    this.hello = hello
    const resolve = this.resolve
    this.resolve = undefined
    this.waiting = undefined
    resolve?.(hello)
  }
}
