import type { Server, Socket } from 'node:net'
import { connect, createServer } from 'node:net'
import type { Clock, TimerHandle, Timers } from '@proto/interface'

/** Yields to the event loop once (lets pending I/O and promise chains run). */
export async function tick (): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve))
}

/** Polls `predicate` every 5 ms until it holds; throws after `deadline` ms with `what` in the message. */
export async function until (predicate: () => boolean, what: string, deadline = 10_000): Promise<void> {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > deadline) throw new Error(`timed out after ${deadline} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** An injected clock and timer source that only moves when told to. */
export class ManualTime implements Clock, Timers {
  private current = 0
  private seq = 0
  private readonly pending = new Map<number, { at: number, fn: () => void }>()

  now (): number { return this.current }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.pending.set(id, { at: this.current + Math.max(0, ms), fn })
    return { cancel: () => { this.pending.delete(id) } }
  }

  /** Timers not yet fired or cancelled. */
  get timerCount (): number { return this.pending.size }

  /** Moves time forward by `ms`, firing due timers in order and letting I/O run after each. */
  async advance (ms: number): Promise<void> {
    const target = this.current + ms
    for (let i = 0; i < 100_000; i++) {
      let nextId: number | undefined
      let next: { at: number, fn: () => void } | undefined
      for (const [id, timer] of this.pending) {
        if (timer.at <= target && (next === undefined || timer.at < next.at)) { next = timer; nextId = id }
      }
      if (next === undefined || nextId === undefined) break
      this.pending.delete(nextId)
      this.current = Math.max(this.current, next.at)
      next.fn()
      await tick()
    }
    this.current = target
    await tick()
  }
}

/** A loopback test server that remembers its sockets, and closes them all on `close()`. */
export interface TestServer {
  readonly port: number
  readonly sockets: Set<Socket>
  /** Resolves with each accepted socket, in order. */
  accepted(): Promise<Socket>
  close(): Promise<void>
}

/** A server on `at` (default: a free port on 127.0.0.1) that hands each accepted socket to `onSocket`. */
export async function startServer (onSocket: (socket: Socket) => void = () => {}, at: { host: string, port: number } = { host: '127.0.0.1', port: 0 }): Promise<TestServer> {
  const sockets = new Set<Socket>()
  const waiting: Array<(s: Socket) => void> = []
  const queue: Socket[] = []
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    onSocket(socket)
    const w = waiting.shift()
    if (w !== undefined) w(socket)
    else queue.push(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    sockets,
    async accepted () {
      const s = queue.shift()
      if (s !== undefined) return s
      return await new Promise<Socket>((resolve) => { waiting.push(resolve) })
    },
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

/** A server that writes back whatever it reads, and ends when its peer ends (on `at`, as `startServer`). */
export async function startEchoServer (at?: { host: string, port: number }): Promise<TestServer> {
  return await startServer((socket) => { socket.pipe(socket) }, at)
}

/** Connects to `127.0.0.1:port` and resolves once connected. */
export async function dial (port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** Reads exactly `n` bytes (rejects on end/error before that); counts the 'data' events it took. */
export async function readBytes (socket: Socket, n: number): Promise<{ data: Buffer, events: number }> {
  return await new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let got = 0
    let events = 0
    const cleanup = (): void => {
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', reject)
    }
    const onData = (chunk: Buffer): void => {
      parts.push(chunk)
      got += chunk.byteLength
      events++
      if (got >= n) {
        cleanup()
        resolve({ data: Buffer.concat(parts, got), events })
      }
    }
    const onEnd = (): void => { cleanup(); reject(new Error(`stream ended after ${got} of ${n} bytes`)) }
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('error', reject)
  })
}

/** How a socket ends: `'end'` for a clean FIN, or the error code (e.g. `ECONNRESET`). */
export async function outcome (socket: Socket): Promise<string> {
  return await new Promise((resolve) => {
    socket.once('end', () => { resolve('end') })
    socket.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? err.name) })
    socket.resume()
  })
}

/** Writes `data` in one call and resolves when it has been flushed to the kernel. */
export async function send (socket: Socket, data: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.write(data, (err) => { if (err != null) reject(err); else resolve() })
  })
}

/**
 * Real timers (unref'ed, so invisible to `process.getActiveResourcesInfo()`) that count how many are
 * pending, so tests can check that an owner cancelled all of its timers.
 */
export function countingTimers (): Timers & { readonly live: number } {
  const pending = new Set<ReturnType<typeof setTimeout>>()
  return {
    get live () { return pending.size },
    setTimeout (fn, ms) {
      const t = setTimeout(() => { pending.delete(t); fn() }, ms)
      t.unref()
      pending.add(t)
      return { cancel: () => { clearTimeout(t); pending.delete(t) } }
    }
  }
}
