import net from 'node:net'
import type { StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'

const noop = (): void => {}

/** Decodes `[u32be length][payload]` frames from a byte stream. */
async function * frames (socket: net.Socket): AsyncGenerator<Uint8Array> {
  let buf: Buffer = Buffer.alloc(0)
  for await (const chunk of socket) {
    buf = buf.length === 0 ? chunk as Buffer : Buffer.concat([buf, chunk as Buffer])
    let off = 0
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off)
      if (buf.length - off - 4 < len) break
      yield buf.subarray(off + 4, off + 4 + len)
      off += 4 + len
    }
    buf = buf.subarray(off)
  }
  if (buf.length > 0) throw new Error('stream ended inside a frame')
}

/** Frames one item: a 4-byte big-endian length then the payload. */
export function encodeFrame (payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.byteLength)
  out.writeUInt32BE(payload.byteLength, 0)
  out.set(payload, 4)
  return out
}

/** A minimal message duplex over a socket: length-prefixed frames, backpressure, half-close, abort. */
export function frameDuplex (socket: net.Socket): StageDuplex<Uint8Array> {
  socket.on('error', noop)
  return {
    source: frames(socket),
    async sink (source: Source<Uint8Array>): Promise<void> {
      for await (const item of source) {
        if (socket.destroyed) throw new Error('socket destroyed')
        if (!socket.write(encodeFrame(item))) {
          await new Promise<void>((resolve, reject) => {
            const done = (err?: Error): void => {
              socket.off('drain', onDrain)
              socket.off('close', onClose)
              if (err != null) reject(err)
              else resolve()
            }
            const onDrain = (): void => { done() }
            const onClose = (): void => { done(new Error('socket closed while writing')) }
            socket.on('drain', onDrain)
            socket.on('close', onClose)
          })
        }
      }
      await new Promise<void>((resolve, reject) => {
        socket.end(() => { resolve() })
        socket.once('close', (hadError) => { if (hadError) reject(new Error('socket failed while ending')) })
      })
    },
    abort (err: Error) { socket.destroy(err) },
    async close () {
      if (socket.destroyed) return
      await new Promise<void>((resolve) => {
        socket.once('close', () => { resolve() })
        socket.end()
      })
    }
  }
}

/** Dials 127.0.0.1:`port`; the socket lives until the attempt's signal aborts. */
export async function dialTcp (port: number, signal: AbortSignal): Promise<StageDuplex<Uint8Array>> {
  signal.throwIfAborted()
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true })
  socket.on('error', noop)
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('connect', onConnect)
      socket.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const onConnect = (): void => { cleanup(); resolve() }
    const onError = (err: Error): void => { cleanup(); socket.destroy(); reject(err) }
    const onAbort = (): void => { cleanup(); socket.destroy(); reject(signal.reason) }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  signal.addEventListener('abort', () => { socket.destroy() }, { once: true })
  return frameDuplex(socket)
}

/** A loopback server that records every frame it receives and can be stopped and restarted on its port. */
export class TestServer {
  readonly received: Uint8Array[] = []
  readonly sockets = new Set<net.Socket>()
  connections = 0
  port = 0
  private server: net.Server | undefined
  closed = 0
  private waiters: Array<() => boolean> = []

  /** `onConnection` runs for every accepted connection, e.g. to greet or to kick it. */
  constructor (private readonly onConnection: (socket: net.Socket, index: number) => void = noop) {}

  async start (): Promise<number> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket)
      socket.on('error', noop)
      socket.on('close', () => { this.sockets.delete(socket); this.closed++; this.check() })
      const index = this.connections++
      void (async () => {
        try {
          for await (const frame of frames(socket)) {
            this.received.push(frame)
            this.check()
          }
        } catch {}
        socket.end()
      })()
      this.onConnection(socket, index)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    this.server = server
    this.port = (server.address() as net.AddressInfo).port
    return this.port
  }

  /** Resets every connection and stops listening. */
  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.resetAndDestroy()
    if (server != null) await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }

  /** Resolves once `predicate` holds, checked whenever a frame arrives or a connection closes. */
  async until (predicate: (server: this) => boolean): Promise<void> {
    if (predicate(this)) return
    await new Promise<void>((resolve) => {
      this.waiters.push(() => {
        if (!predicate(this)) return false
        resolve()
        return true
      })
    })
  }

  private check (): void {
    this.waiters = this.waiters.filter(w => !w())
  }
}

/** A 4-byte big-endian sequence number. */
export function seq (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

export function readSeq (b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0)
}
