import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import net from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Carrier, Connection, DisconnectInfo, ListenInit, Server } from '../src/index.js'
import { DEFAULT_WRITE_STALL_TIMEOUT, fromCarrier, listen, memoryPair } from '../src/index.js'
import { fakeCarrier, manualTime, portOf, settle } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const MiB = 1024 * 1024

/** A full garbage collection, so memory figures count what is held, not what awaits collection. */
function collect (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
}

/** Lets I/O run (real `setImmediate`, not faked) until `cond` holds, at most `turns` times. */
async function until (cond: () => boolean, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise(resolve => setImmediate(resolve))
  expect(cond()).toBe(true)
}

/** The README's echo server (no idleTimeout); every disconnect is recorded. */
async function echoServer (init: ListenInit = {}): Promise<{ server: Server, gone: DisconnectInfo[] }> {
  const server = await listen({ host: '127.0.0.1', port: 0, ...init }, async (conn) => { await pipe(conn, conn) })
  const gone: DisconnectInfo[] = []
  server.addEventListener('disconnect', ({ detail }) => { gone.push(detail.info) })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return { server, gone }
}

/** A peer that sends until its socket pushes back and never reads: the echo's replies pile up. */
function nonReader (port: number): net.Socket {
  const s = net.connect({ host: '127.0.0.1', port })
  s.pause()
  s.on('error', () => {})
  const chunk = Buffer.alloc(64 * 1024, 1)
  const pump = (): void => { while (!s.destroyed && s.write(chunk)) { /* until it pushes back */ } }
  s.on('connect', pump)
  s.on('drain', pump)
  cleanups.push(() => { s.destroy() })
  return s
}

/**
 * A carrier whose peer takes written bytes only when the test says (`take`): every write waits for it, and
 * `progress()` counts what it took; `'drain'` comes once it took everything, as a socket's does.
 */
function slowPeer (): { carrier: Carrier, calls: string[], take(n: number): void, taken(): number, queued(): number } {
  let queued = 0
  let taken = 0
  const { carrier, calls, events } = fakeCarrier(({ calls, events }) => ({
    write (data) { queued += data.byteLength; return false },
    writev (data) { for (const d of data) queued += d.byteLength; return false },
    end () { calls.push('end'); setImmediate(() => events()?.onCarrierFinish()) },
    progress: () => taken
  }))
  return {
    carrier,
    calls,
    take (n) {
      if (calls.length > 0 || taken === queued) return
      taken = Math.min(queued, taken + n)
      if (taken === queued) events()?.onCarrierDrain()
    },
    taken: () => taken,
    queued: () => queued
  }
}

/**
 * A connection over `slowPeer()` with a 1 s write-stall timeout on an injected clock, writing one 10 MiB
 * chunk: one write that waits for the peer until all of it is taken (`'drain'` only then).
 */
async function largeWriteToSlowPeer (): Promise<{ time: ReturnType<typeof manualTime>, peer: ReturnType<typeof slowPeer>, conn: Connection, sinking: ReturnType<typeof settle> }> {
  const time = manualTime()
  const peer = slowPeer()
  const conn = fromCarrier(peer.carrier, { writeStallTimeout: 1_000, clock: time.clock, timers: time.timers })
  const sinking = settle(conn.sink([new Uint8Array(10 * MiB)]))
  await until(() => peer.queued() === 10 * MiB)
  return { time, peer, conn, sinking }
}

/** Sends `text` and reads the echo back over a fresh connection of the same server. */
async function echoes (port: number, text: string): Promise<string> {
  const s = net.connect({ host: '127.0.0.1', port })
  cleanups.push(() => { s.destroy() })
  await new Promise(resolve => s.once('connect', resolve))
  s.end(text)
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts).toString()
}

describe('write-stall timeout: a peer that never reads is evicted', () => {
  it('real sockets: the non-reader is reset with WriteStallError within the timeout while others are served', async () => {
    const { server, gone } = await echoServer({ writeStallTimeout: 300 })
    const port = portOf(server)
    const started = Date.now()
    const attacker = nonReader(port)
    const attackerClosed = new Promise(resolve => attacker.once('close', resolve))
    expect(await echoes(port, 'still served')).toBe('still served')
    await vi.waitFor(() => { expect(gone.map(i => i.reason)).toContain('write-stall') }, { timeout: 10_000 })
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(10_000)
    const info = gone.find(i => i.reason === 'write-stall') as DisconnectInfo
    expect(info.error?.name).toBe('WriteStallError')
    expect(info.initiator).toBe('local')
    expect(info.stats.bytesOut).toBeGreaterThan(0)
    await attackerClosed
    expect(await echoes(port, 'after')).toBe('after')
  })

  it(`is on by default (${DEFAULT_WRITE_STALL_TIMEOUT} ms), measured on the injected clock; progress re-arms it`, async () => {
    const time = manualTime()
    const { server, gone } = await echoServer({ clock: time.clock, timers: time.timers })
    const port = portOf(server)
    nonReader(port)
    // wait until the echo's writes push back (a stall timer is pending)
    await vi.waitFor(() => { expect(time.pending()).toBe(1) }, { timeout: 10_000 })
    time.advance(DEFAULT_WRITE_STALL_TIMEOUT - 1)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(gone).toEqual([])
    expect(server.connections.size).toBe(1)
    time.advance(1)
    await vi.waitFor(() => { expect(gone.map(i => i.reason)).toEqual(['write-stall']) })
    expect(time.pending()).toBe(0)
  })

  it('a slow reader that keeps reading is not evicted (injected clock, memoryPair)', async () => {
    const time = manualTime()
    const [a, b] = memoryPair({ writeStallTimeout: 1_000, clock: time.clock, timers: time.timers })
    const chunk = new Uint8Array(64 * 1024)
    let produced = 0
    const writing = settle(a.sink((async function * () {
      while (produced < 8 * MiB) { produced += chunk.byteLength; yield chunk }
    })()))
    const reader = b.source[Symbol.asyncIterator]()
    let received = 0
    // one read in flight at a time (a fresh next() per turn would leave abandoned reads behind)
    let pending = reader.next()
    // every 600 ms, read for a while: the data keeps moving, slowly, and the writer keeps being blocked
    for (let step = 0; step < 400 && received < 8 * MiB; step++) {
      time.advance(600)
      for (let turn = 0; turn < 20; turn++) {
        const r = await Promise.race([pending, new Promise<undefined>(resolve => setImmediate(() => { resolve(undefined) }))])
        if (r === undefined) continue
        if (r.done === true) break
        received += r.value.byteLength
        pending = reader.next()
      }
    }
    expect(received).toBe(8 * MiB)
    expect((await writing).ok).toBe(true)
    await b.sink([])
    expect((await a.closed).reason).toBe('closed')
  })

  it('a peer that stops reading is evicted at the timeout, not before (injected clock, memoryPair)', async () => {
    const time = manualTime()
    const [a, b] = memoryPair({ writeStallTimeout: 1_000, clock: time.clock, timers: time.timers })
    const writing = settle(a.sink((async function * () { for (;;) yield new Uint8Array(64 * 1024) })()))
    // nobody reads b: once its queue and the pipe are full, the writer waits for good
    await until(() => time.pending() === 1)
    for (let i = 0; i < 100; i++) await new Promise(resolve => setImmediate(resolve))
    time.advance(999)
    expect(b.signal.aborted).toBe(false)
    time.advance(1)
    const w = await writing
    expect(w.ok ? undefined : w.error.name).toBe('WriteStallError')
    expect(await a.closed).toMatchObject({ reason: 'write-stall', initiator: 'local' })
    expect((await b.closed).reason).toBe('reset')
    expect(time.pending()).toBe(0)
  })

  it('FIN the peer never takes counts as stalled too (a carrier whose end never finishes)', async () => {
    const time = manualTime()
    // its end never reports finish: the peer is not taking what we sent
    const { carrier, calls } = fakeCarrier()
    const conn = fromCarrier(carrier, { writeStallTimeout: 500, clock: time.clock, timers: time.timers })
    const sinking = settle(conn.sink([new Uint8Array(10)]))
    await new Promise(resolve => setImmediate(resolve))
    expect(calls).toEqual(['end'])
    time.advance(499)
    expect(calls).toEqual(['end'])
    time.advance(1)
    expect(calls).toEqual(['end', 'reset'])
    const s = await sinking
    expect(s.ok ? undefined : s.error.name).toBe('WriteStallError')
    expect((await conn.closed).reason).toBe('write-stall')
    expect(time.pending()).toBe(0)
  })

  it('a peer that takes one large write slowly is not stalled: movement restarts the wait (injected clock, carrier progress)', async () => {
    const { time, peer, conn, sinking } = await largeWriteToSlowPeer()
    // the peer takes 256 KiB every 400 ms (640 KiB/s): 16 s for all of it, 16 timeouts
    for (let step = 0; step < 100 && peer.taken() < 10 * MiB; step++) {
      time.advance(400)
      peer.take(256 * 1024)
      expect(peer.calls).toEqual([])
    }
    expect(peer.taken()).toBe(10 * MiB)
    const s = await sinking
    expect(s.ok).toBe(true)
    expect(peer.calls).toEqual(['end'])
    expect(conn.stats().bytesOut).toBe(10 * MiB)
    conn.abort(new Error('test over'))
    expect((await conn.closed).reason).toBe('aborted')
    expect(time.pending()).toBe(0)
  })

  it('a peer that stops taking a large write midway is evicted once it has not moved for the timeout, never sooner (injected clock, carrier progress)', async () => {
    const { time, peer, conn, sinking } = await largeWriteToSlowPeer()
    for (let step = 0; step < 5; step++) {
      time.advance(400)
      peer.take(256 * 1024)
    }
    // the last byte moved at 2 000 ms; from then on, nothing
    expect(peer.calls).toEqual([])
    time.advance(999)
    expect(peer.calls).toEqual([])
    // found by the next look at the carrier: within twice the timeout of the last movement
    time.advance(1_001)
    expect(peer.calls).toEqual(['reset'])
    const s = await sinking
    expect(s.ok ? undefined : s.error.name).toBe('WriteStallError')
    expect(await conn.closed).toMatchObject({ reason: 'write-stall', initiator: 'local' })
    expect(time.pending()).toBe(0)
  })

  it('real sockets: one 16 MiB write to a peer that reads slowly but steadily is delivered, not reset', async () => {
    const STALL = 1_500
    const SIZE = 16 * MiB
    const outcome: { sink?: string, info?: DisconnectInfo } = {}
    const server = await listen({ host: '127.0.0.1', port: 0, writeStallTimeout: STALL }, async (conn) => {
      const s = await settle(conn.sink([new Uint8Array(SIZE)]))
      outcome.sink = s.ok ? 'ok' : s.error.name
      outcome.info = await conn.closed
    })
    cleanups.push(async () => { await server.close({ deadline: 200 }) })
    const started = Date.now()
    const peer = net.connect({ host: '127.0.0.1', port: portOf(server) })
    cleanups.push(() => { peer.destroy() })
    peer.on('error', () => {})
    let received = 0
    // at most 64 KiB per read, then 10 ms off: under 6.6 MB/s, so the one write waits for the peer (no 'drain')
    // far longer than the timeout, while its bytes keep moving
    peer.on('data', (chunk: Buffer) => {
      received += chunk.byteLength
      peer.pause()
      setTimeout(() => peer.resume(), 10)
    })
    await new Promise((resolve) => { peer.once('end', resolve); peer.once('close', resolve) })
    expect(received).toBe(SIZE)
    expect(Date.now() - started).toBeGreaterThan(STALL)
    peer.end()
    await vi.waitFor(() => { expect(outcome.info?.reason).toBe('closed') }, { timeout: 10_000 })
    expect(outcome.sink).toBe('ok')
  })

  it('memory per attacking connection is bounded (20 non-readers in another process)', async () => {
    const { server, gone } = await echoServer({ writeStallTimeout: 60_000 })
    const n = 20
    const settled = async (): Promise<void> => {
      // wait until the server stops taking bytes from the attackers: every buffer on the way is full
      let last = -1
      for (let i = 0; i < 100; i++) {
        const total = [...server.connections].reduce((sum, c) => sum + c.stats().bytesIn, 0)
        if (total === last && server.connections.size === n) return
        last = total
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    collect()
    const before = process.memoryUsage()
    const child: ChildProcess = fork(new URL('./non-readers.mjs', import.meta.url), [String(portOf(server)), String(n)], { stdio: 'ignore' })
    cleanups.push(() => { child.kill() })
    await new Promise(resolve => child.once('message', resolve))
    await settled()
    collect()
    const after = process.memoryUsage()
    const perConnection = (after.heapUsed + after.external - before.heapUsed - before.external) / n
    console.log(`server memory per non-reading connection: ${(perConnection / 1024).toFixed(0)} KiB (heap + external)`)
    // read queue (256 KiB + one read) + write batch (64 KiB) + Node's writable buffer: well under 1 MiB
    expect(perConnection).toBeLessThan(1 * MiB)
    expect(gone).toEqual([])
  }, 30_000)
})
