import type { ConnectionAddress } from '@proto/interface'
import { validate } from '@proto/interface'
import type { Carrier, CarrierEvents } from './carrier.js'
import { connectionConfig } from './config.js'
import { MEMORY_PAIR_HIGH_WATER_MARK } from './constants.js'
import { openConnection } from './handle.js'
import type { Connection, MemoryPairInit } from './types.js'

function codeError (code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

let nextPair = 1

/**
 * One end of an in-memory pipe that behaves like a TCP socket: bounded in-flight bytes (writes return
 * `false` past the high-water mark and `'drain'` follows), pause/resume, FIN per direction, auto-close
 * once both directions ended, RST on `reset()`. Events are delivered on `setImmediate`, like I/O.
 */
class MemoryEnd implements Carrier {
  peer!: MemoryEnd
  destroyed = false
  private events: CarrierEvents | undefined
  private inbox: Uint8Array[] = []
  private inboxBytes = 0
  private peerEnded = false
  private endDelivered = false
  private finished = false
  private finishDelivered = false
  private paused = false
  private scheduled = false
  private peerWantsDrain = false
  private pendingError: Error | undefined

  constructor (private readonly name: string, private readonly hwm: number) {}

  attach (events: CarrierEvents): void {
    this.events = events
  }

  write (data: Uint8Array): boolean {
    if (this.destroyed || this.finished) return true
    if (this.peer.destroyed) {
      this.failSoon(codeError('EPIPE', 'write EPIPE'))
      return true
    }
    return this.peer.receive(data)
  }

  writev (data: Uint8Array[]): boolean {
    let ok = true
    for (const buf of data) ok = this.write(buf)
    return ok
  }

  end (): void {
    if (this.destroyed || this.finished) return
    this.finished = true
    this.peer.receiveEnd()
    setImmediate(() => {
      if (this.destroyed) return
      this.finishDelivered = true
      this.events?.onCarrierFinish()
      this.maybeAutoClose()
    })
  }

  pause (): void {
    this.paused = true
  }

  resume (): void {
    this.paused = false
    this.schedule()
  }

  reset (): void {
    if (this.destroyed) return
    this.peer.failSoon(codeError('ECONNRESET', 'read ECONNRESET'))
    this.teardown()
  }

  destroy (): void {
    if (this.destroyed) return
    // Like closing a TCP socket: the peer sees FIN if we had not sent it, and a reset if it writes on.
    if (!this.finished) this.peer.receiveEnd()
    this.teardown()
  }

  localAddress (): ConnectionAddress {
    return { family: 'memory', name: this.name }
  }

  remoteAddress (): ConnectionAddress {
    return { family: 'memory', name: this.peer.name }
  }

  receive (data: Uint8Array): boolean {
    this.inbox.push(data)
    this.inboxBytes += data.byteLength
    this.schedule()
    if (this.inboxBytes < this.hwm) return true
    this.peerWantsDrain = true
    return false
  }

  receiveEnd (): void {
    this.peerEnded = true
    this.schedule()
  }

  failSoon (err: Error): void {
    if (this.destroyed || this.pendingError != null) return
    this.pendingError = err
    this.schedule()
  }

  private schedule (): void {
    if (this.scheduled || this.destroyed) return
    this.scheduled = true
    setImmediate(this.deliver)
  }

  private readonly deliver = (): void => {
    this.scheduled = false
    if (this.destroyed) return
    if (this.pendingError != null) {
      this.events?.onCarrierError(this.pendingError)
      this.teardown()
      return
    }
    while (!this.paused && this.inbox.length > 0 && !this.destroyed) {
      const chunk = this.inbox.shift() as Uint8Array
      this.inboxBytes -= chunk.byteLength
      this.events?.onCarrierData(chunk)
    }
    if (this.peerWantsDrain && this.inboxBytes < this.hwm) {
      this.peerWantsDrain = false
      this.peer.emitDrain()
    }
    if (this.peerEnded && this.inbox.length === 0 && !this.endDelivered && !this.destroyed) {
      this.endDelivered = true
      this.events?.onCarrierEnd()
      this.maybeAutoClose()
    }
  }

  private emitDrain (): void {
    if (!this.destroyed) this.events?.onCarrierDrain()
  }

  private maybeAutoClose (): void {
    if (this.endDelivered && this.finishDelivered && !this.destroyed) this.teardown()
  }

  private teardown (): void {
    this.destroyed = true
    this.inbox = []
    this.inboxBytes = 0
    setImmediate(() => { this.events?.onCarrierClose() })
  }
}

/**
 * Makes two connected in-memory `Connection`s with the same interface, backpressure and half-close
 * behaviour as a TCP pair, for testing upper stages without sockets.
 */
export function memoryPair (init: MemoryPairInit = {}): [Connection, Connection] {
  validate.options('init', init)
  const hwm = validate.integer('highWaterMark', init.highWaterMark, MEMORY_PAIR_HIGH_WATER_MARK, { min: 1 })
  // An in-memory pair has no hostile peer: the write-stall timeout is off unless asked for.
  const config = connectionConfig(init, { idPrefix: 'm', writeStallTimeout: 0 })
  const n = nextPair++
  const a = new MemoryEnd(`memory-${n}-a`, hwm)
  const b = new MemoryEnd(`memory-${n}-b`, hwm)
  a.peer = b
  b.peer = a
  return [openConnection(a, config), openConnection(b, config)]
}
