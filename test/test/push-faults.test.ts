import net from 'node:net'
import type { Frame } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { Settled } from '@proto/stage-compliance'
import { cleanupsWithLeakCheck, resourceSnapshot, settle } from '@proto/stage-compliance'
import type { Connection, DisconnectInfo } from '@proto/transport'
import { connect } from '@proto/transport'
import { describe, expect, it } from 'vitest'
import { manualTime } from '../src/manual-time.js'

/**
 * The wake-ups of the push path (transport ⇄ codec ⇄ heartbeat) under the faults the chaos suites inject,
 * each made exactly on a raw peer socket: a cut (FIN, then the socket gone), a reset, a black hole (the
 * peer stops reading and writing), a half-close, and a read that ends or fails inside a frame. At the
 * moment of the fault the stack is busy: a read parked on the heartbeat's source, a producer held back by
 * the connection's backpressure (or waiting for its own data), a ping outstanding. After the fault every
 * one of them must settle within a generous bound, the stage must report `closed`, the socket must go, and
 * nothing (socket, timer) may be left behind. The heartbeat runs on manual time, so its timeout fires
 * exactly when the test says; the sockets are real.
 */

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

/** Generous bound for something that should happen at once (a loaded machine included). */
const PROMPT = 3_000
const INTERVAL = 1_000
const TIMEOUT = 3_000

/** One frame in the default format, as the peer writes it. */
function frameBytes (type: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + body.byteLength)
  out.writeUInt32BE(body.byteLength, 0)
  out.writeUInt8(type, 4)
  out.set(body, 5)
  return out
}

/** Resolves with `promise`'s outcome, or with `'pending'` after `ms`. */
async function within<T> (promise: Promise<Settled<T>>, ms = PROMPT): Promise<Settled<T> | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'pending'>((resolve) => { timer = setTimeout(() => { resolve('pending') }, ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

interface Rig {
  conn: Connection
  peer: net.Socket
  client: HeartbeatDuplex
  time: ReturnType<typeof manualTime>
  /** The heartbeat's `closed` event (with its error). */
  closed: Promise<Settled<Error | undefined>>
  /** The read parked on the heartbeat's source when the fault came. */
  read: Promise<Settled<IteratorResult<Frame>>>
  /** The sink the producer below writes through. */
  sent: Promise<Settled<void>>
  /** The producer was released (its `finally` ran). */
  released: Promise<Settled<void>>
  produced: () => number
  /** Lets the idle producer yield one frame, or end (no frame). */
  give: (frame?: Frame) => void
  connClosed: Promise<Settled<DisconnectInfo>>
}

const cleanups = cleanupsWithLeakCheck(5_000)

/**
 * A client stack over TCP to a raw peer socket. `flood`: the producer writes 4 KiB frames as fast as the
 * connection takes them (the peer does not read, so it is soon held back); otherwise it waits for `give`.
 */
async function rig (flood: boolean): Promise<Rig> {
  const server = net.createServer({ allowHalfOpen: true })
  const accepted = new Promise<net.Socket>((resolve) => { server.once('connection', resolve) })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  cleanups.push(async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) })
  const conn = await connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port })
  const peer = await accepted
  peer.pause() // the peer reads only when a test says so
  peer.on('error', () => {}) // the raw peer's own view of a reset is not under test
  cleanups.push(() => { peer.destroy() })
  const time = manualTime(100)
  const client = heartbeat(codec(conn), { interval: INTERVAL, timeout: TIMEOUT, clock: time.clock, timers: time.timers })
  cleanups.push(() => { client.abort(new Error('test over')) })
  const closed = settle(new Promise<Error | undefined>((resolve) => { client.addEventListener('closed', (e) => { resolve(e.detail.error) }, { once: true }) }))
  let produced = 0
  let release: () => void = () => {}
  const released = settle(new Promise<void>((resolve) => { release = resolve }))
  // an async iterator rather than a generator: its return() is answered while a next() is pending
  let wake: ((r: IteratorResult<Frame>) => void) | undefined
  let over = false
  const producer: AsyncIterableIterator<Frame> = {
    [Symbol.asyncIterator] () { return this },
    next: async () => {
      if (over) return { done: true, value: undefined }
      if (flood) { produced++; return { done: false, value: { type: FrameType.DATA, body: new Uint8Array(4096) } } }
      return await new Promise<IteratorResult<Frame>>((resolve) => { wake = resolve })
    },
    return: async () => {
      over = true
      wake?.({ done: true, value: undefined })
      release()
      return { done: true, value: undefined }
    }
  }
  const give = (frame?: Frame): void => {
    if (frame === undefined) { over = true; release() }
    produced++
    wake?.(frame === undefined ? { done: true, value: undefined } : { done: false, value: frame })
  }
  const sent = settle(client.sink(producer))
  const read = settle(client.source.next())
  const connClosed = settle(conn.closed)
  if (flood) {
    // until the producer is held back by the connection (the peer reads nothing)
    let last = -1
    for (let i = 0; i < 200 && produced !== last; i++) {
      last = produced
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect(produced).toBe(last)
  } else {
    await nextTurn()
  }
  // a ping goes out and stays outstanding
  time.advance(INTERVAL)
  await nextTurn()
  return { conn, peer, client, time, closed, read, sent, released, produced: () => produced, give, connClosed }
}

/** Everything that was pending settled, and the connection is gone. */
async function expectAllSettled (r: Rig): Promise<void> {
  const outcome = {
    read: await within(r.read) === 'pending',
    sink: await within(r.sent) === 'pending',
    producer: await within(r.released) === 'pending',
    stage: await within(r.closed) === 'pending',
    connection: await within(r.connClosed) === 'pending'
  }
  expect(outcome, 'what is still pending').toEqual({ read: false, sink: false, producer: false, stage: false, connection: false })
}

/** The peer resets: everything settles, the parked read fails with the reset, the stage closes with an error. */
async function expectResetFailsAll (r: Rig): Promise<void> {
  r.peer.resetAndDestroy()
  await expectAllSettled(r)
  const read = await r.read
  expect(read.ok).toBe(false)
  expect((read.error as Error).name).toBe('ConnectionResetError')
  expect((await r.closed).value).toBeInstanceOf(Error)
}

describe.each([{ flood: false, state: 'idle' }, { flood: true, state: 'held back by backpressure' }])('push path faults, producer $state', ({ flood }) => {
  it('a reset: the parked read and the sink fail with the reset, the producer is released, the stage closes', async () => {
    const r = await rig(flood)
    await expectResetFailsAll(r)
    expect((await r.sent).ok).toBe(false)
  })

  it('a cut (FIN, then the socket gone): the read ends at once; the next ping finds the socket gone and everything settles', async () => {
    const r = await rig(flood)
    r.peer.end()
    const read = await within(r.read)
    expect(read).toMatchObject({ ok: true, value: { done: true } })
    r.peer.destroy()
    await nextTurn()
    // the peer's FIN ended the receive side: the stage still writes; a ping meets the closed socket
    for (let i = 0; i < 10 && await within(r.closed, 100) === 'pending'; i++) r.time.advance(INTERVAL)
    await expectAllSettled(r)
    expect((await r.sent).ok).toBe(false)
  })

  it('a black hole (the peer neither reads nor writes): the heartbeat times out, and everything pending fails with it', async () => {
    const r = await rig(flood)
    const timedOut = settle(new Promise((resolve) => { r.client.addEventListener('timeout', resolve, { once: true }) }))
    r.time.advance(TIMEOUT)
    expect(await within(timedOut)).not.toBe('pending')
    await expectAllSettled(r)
    const read = await r.read
    expect(read.ok).toBe(false)
    expect((read.error as Error).name).toBe('HeartbeatTimeoutError')
    expect((await r.sent).ok).toBe(false)
    expect(((await r.closed).value as Error).name).toBe('HeartbeatTimeoutError')
  })

  it('a read error inside a frame (a partial frame, then FIN): the read fails with TruncatedFrameError and the connection is aborted', async () => {
    const r = await rig(flood)
    r.peer.end(frameBytes(FrameType.DATA, new Uint8Array(64)).subarray(0, 20))
    await expectAllSettled(r)
    const read = await r.read
    expect(read.ok).toBe(false)
    expect((read.error as Error).name).toBe('TruncatedFrameError')
    expect((await r.sent).ok).toBe(false)
  })

  it('a reset inside a frame: the read fails with the reset, everything settles', async () => {
    const r = await rig(flood)
    r.peer.write(frameBytes(FrameType.DATA, new Uint8Array(64)).subarray(0, 20), () => { r.peer.resetAndDestroy() })
    await expectAllSettled(r)
    const read = await r.read
    expect(read.ok).toBe(false)
    // the reset may overtake the partial frame's end in the kernel: either names the cut frame
    expect(['ConnectionResetError', 'TruncatedFrameError']).toContain((read.error as Error).name)
  })
})

describe('push path faults: half-close and a consumer that stopped reading', () => {
  it('the peer half-closes: the read ends, writing goes on, then our own end closes the connection cleanly', async () => {
    const r = await rig(false)
    r.peer.resume()
    const got: Buffer[] = []
    r.peer.on('data', (chunk: Buffer) => { got.push(chunk) })
    r.peer.on('end', () => { r.peer.end() })
    r.peer.end(frameBytes(FrameType.DATA, Uint8Array.of(7)))
    const read = await within(r.read)
    expect(read).toMatchObject({ ok: true, value: { done: false, value: { type: FrameType.DATA } } })
    expect(await within(settle(r.client.source.next()))).toMatchObject({ ok: true, value: { done: true } })
    const bytesBefore = r.conn.stats().bytesOut
    r.give({ type: FrameType.DATA, body: Uint8Array.of(1, 2, 3) })
    await expect.poll(() => r.conn.stats().bytesOut).toBeGreaterThan(bytesBefore)
    r.give()
    expect(await within(settle(r.client.close()))).toMatchObject({ ok: true })
    await expectAllSettled(r)
    expect((await r.connClosed).value?.reason).toBe('closed')
    expect(Buffer.concat(got).includes(Buffer.from([0, 0, 0, 3, FrameType.DATA, 1, 2, 3]))).toBe(true)
  })

  it('after our own half-close, a reset reaches the parked read through the receive side alone', async () => {
    const r = await rig(false)
    r.peer.resume()
    const peerEnded = new Promise<void>((resolve) => { r.peer.once('end', resolve) })
    r.give() // the producer ends: the stage finishes writing, FIN goes out
    expect(await within(r.sent)).toMatchObject({ ok: true })
    await peerEnded
    expect(await within(r.read, 100)).toBe('pending') // the peer may still write: the read waits
    await expectResetFailsAll(r)
  })

  it('frames queued for a consumer that stopped reading, then a reset: the consumer gets the frames that arrived, then the reset', async () => {
    const COUNT = 3_000
    const r = await rig(false)
    const chunks: Buffer[] = []
    for (let i = 0; i < COUNT; i++) chunks.push(frameBytes(FrameType.DATA, Buffer.alloc(512, i % 256)))
    r.peer.write(Buffer.concat(chunks))
    expect((await r.read).ok).toBe(true) // the first frame; then nobody reads for a while
    // the consumer is behind: the heartbeat stops reading and the rest waits below
    await expect.poll(() => r.client.stats().paused, { timeout: PROMPT }).toBe(true)
    r.peer.resetAndDestroy()
    // a paused socket does not read, so the reset is seen once the consumer makes room
    await new Promise(resolve => setTimeout(resolve, 50))
    let frames = 1
    let error: Error | undefined
    try {
      for await (const _ of r.client.source) frames++
    } catch (err) {
      error = err as Error
    }
    // what the kernel had not handed over yet is lost with the reset, which may look like a cut frame
    if (error !== undefined) expect(['ConnectionResetError', 'TruncatedFrameError']).toContain(error.name)
    else {
      // every byte arrived before the reset, and libuv reported the hang-up as the end of the stream
      // without reading the reset (a partial read with POLLHUP: libuv/libuv#4997): nothing was lost. The
      // connection then looks half-closed to us, and what finds the reset is our next write: the
      // heartbeat's next ping
      expect(frames).toBe(COUNT)
      r.time.advance(INTERVAL)
      await nextTurn()
    }
    expect(frames).toBeLessThanOrEqual(COUNT)
    await expectAllSettled(r)
    // either way the stage ends with the reset (or what it cut), not as a clean close
    const closed = await r.closed
    expect(closed.ok && closed.value !== undefined ? closed.value.name : 'a clean close').toMatch(/^(ConnectionResetError|TruncatedFrameError)$/)
  })
})
