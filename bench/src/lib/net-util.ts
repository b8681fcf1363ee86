/** Plain `node:net` plumbing shared by the baselines and the harness. */
import { once } from 'node:events'
import net from 'node:net'

export const HOST = '127.0.0.1'

/** What a throughput receiver reports back when the sender is done: messages and body bytes it got. */
export interface Tally { count: number, bytes: number }

/** What one timed throughput run measured. */
export interface RunResult extends Tally { seconds: number }

/** A TCP listener on loopback with `noDelay` sockets; resolves with its port. */
export async function listenNet (onSocket: (socket: net.Socket) => void): Promise<{ port: number, server: net.Server }> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {})
    onSocket(socket)
  })
  server.listen(0, HOST, 4096)
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  return { port, server }
}

/** A loopback TCP connection with Nagle off. */
export async function connectNet (port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: HOST, noDelay: true })
  await once(socket, 'connect')
  return socket
}

/** Waits for `drain` (or fails with the socket's error). */
export async function drained (socket: net.Socket): Promise<void> {
  await once(socket, 'drain')
}

/** The 16-byte tally a receiver sends back. */
export function encodeTally (t: Tally): Buffer {
  const out = Buffer.allocUnsafe(16)
  out.writeDoubleBE(t.count, 0)
  out.writeDoubleBE(t.bytes, 8)
  return out
}

export function decodeTally (buf: Uint8Array): Tally {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  return { count: b.readDoubleBE(0), bytes: b.readDoubleBE(8) }
}

/** Resolves with the first 16 bytes read from `socket` as a tally (bounded by `timeoutMs`). */
export async function readTally (socket: net.Socket, timeoutMs = 60_000): Promise<Tally> {
  return await new Promise<Tally>((resolve, reject) => {
    const parts: Buffer[] = []
    let have = 0
    const timer = setTimeout(() => { done(new Error(`no tally within ${timeoutMs} ms`)) }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      parts.push(chunk)
      have += chunk.byteLength
      if (have >= 16) done(undefined, decodeTally(Buffer.concat(parts).subarray(0, 16)))
    }
    const onClose = (): void => { done(new Error('connection closed before the tally')) }
    function done (err: Error | undefined, t?: Tally): void {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      if (err != null) reject(err)
      else resolve(t as Tally)
    }
    socket.on('data', onData)
    socket.on('close', onClose)
  })
}

/** `performance.now()` in seconds. */
export function seconds (): number { return performance.now() / 1000 }

/** Ends a client socket and waits (bounded) until it is gone. */
export async function closeSocket (socket: net.Socket): Promise<void> {
  if (socket.destroyed) return
  const gone = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  socket.on('error', () => {})
  socket.end()
  const timer = setTimeout(() => socket.destroy(), 2_000)
  await gone
  clearTimeout(timer)
}
