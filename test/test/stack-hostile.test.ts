import type { Socket } from 'node:net'
import { connect as netConnect } from 'node:net'
import { encodeHello, FrameType } from '@proto/codec'
import { seededRandom } from '@proto/fault-proxy'
import { afterEach, describe, expect, it } from 'vitest'
import { checkLedger, MESSAGE_TYPE, messageBody, StackClient, StackServer } from '../src/stack/index.js'

/**
 * Guarantees checked: bad input from the network is a typed error on that one connection, never a
 * crash. While hostile peers attack, the server closes each of them with the documented reason —
 * transport disconnect `aborted` carrying the codec's or heartbeat's typed error (`FrameTooLongError` as
 * soon as a too-long header is read, `TruncatedFrameError` for a stream that ends inside a frame,
 * heartbeat `ProtocolVersionError` for a missing or malformed HELLO, `HeartbeatTimeoutError` for a peer
 * that goes silent) — and frames it accepted before the bad bytes are still delivered; the well-behaved
 * clients are unaffected: every message delivered exactly once, in order, no reconnects, no losses.
 */

const HEARTBEAT = { interval: 100, timeout: 500, hello: true }
const MAX_FRAME = 64 * 1024
const GOOD_CLIENTS = 4
const GOOD_COUNT = 300

function frame (type: number, body: Uint8Array | string): Uint8Array {
  const b = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const out = new Uint8Array(5 + b.byteLength)
  new DataView(out.buffer).setUint32(0, b.byteLength)
  out[4] = type
  out.set(b, 5)
  return out
}

function header (length: number, type: number): Uint8Array {
  const out = new Uint8Array(5)
  new DataView(out.buffer).setUint32(0, length)
  out[4] = type
  return out
}

const hello = frame(FrameType.HELLO, encodeHello({ interval: HEARTBEAT.interval, timeout: HEARTBEAT.timeout }))

interface Attack {
  name: string
  /** Bytes written at once after connecting. */
  bytes: Uint8Array[]
  /** Send FIN after the bytes. */
  end: boolean
  /** The typed error the server must close the connection with. */
  expected: string
  /** Test messages (client 100 + index) the server must have delivered before closing. */
  delivered?: number
}

function garbage (seed: number, n: number): Uint8Array {
  const random = seededRandom(seed)
  return Uint8Array.from({ length: n }, () => random.int(0, 255))
}

const ATTACKS: Attack[] = [
  { name: 'random garbage', bytes: [garbage(11, 4096)], end: false, expected: 'FrameTooLongError' },
  {
    name: 'length bomb after valid traffic',
    bytes: [hello, ...[0, 1, 2].map(seq => frame(MESSAGE_TYPE, messageBody(101, seq, 32))), header(0xFFFF_FFFF, MESSAGE_TYPE)],
    end: false,
    expected: 'FrameTooLongError',
    delivered: 3
  },
  { name: 'malformed HELLO', bytes: [frame(FrameType.HELLO, 'PRTX\u0001\u0000\u0000\u0000\u0000\u0064\u0000\u0000\u0001\u00f4')], end: false, expected: 'ProtocolVersionError' },
  { name: 'data before HELLO', bytes: [frame(MESSAGE_TYPE, messageBody(103, 0, 32))], end: false, expected: 'ProtocolVersionError' },
  { name: 'truncated frame then FIN', bytes: [hello, header(1000, MESSAGE_TYPE), new Uint8Array(10)], end: true, expected: 'TruncatedFrameError' },
  { name: 'wrong protocol (HTTP request)', bytes: [new TextEncoder().encode('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')], end: false, expected: 'FrameTooLongError' },
  { name: 'slowloris: connects, says nothing', bytes: [], end: false, expected: 'HeartbeatTimeoutError' },
  { name: 'slowloris: HELLO, two header bytes, silence', bytes: [hello, new Uint8Array([0, 0])], end: false, expected: 'HeartbeatTimeoutError' }
]

/** Connects a raw socket, writes `bytes`, and reports how the server ended it. */
async function attack (port: number, a: Attack): Promise<{ socket: Socket, localPort: number, closed: Promise<string> }> {
  const socket = netConnect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let outcome = 'end'
  socket.on('error', (err: NodeJS.ErrnoException) => { outcome = err.code ?? err.name })
  socket.on('data', () => {}) // discard what the server sends (HELLO, pings)
  const closed = new Promise<string>((resolve) => { socket.once('close', () => { resolve(outcome) }) })
  for (const b of a.bytes) socket.write(b)
  if (a.end) socket.end()
  return { socket, localPort: socket.localPort ?? 0, closed }
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('stack: a server among hostile peers', () => {
  it('closes each bad peer with its typed reason and keeps serving the good ones', async () => {
    // precondition of the seed: the garbage's first four bytes announce more than maxFrameLength
    expect(new DataView(garbage(11, 4).buffer).getUint32(0)).toBeGreaterThan(MAX_FRAME)
    const server = await StackServer.start({ heartbeat: HEARTBEAT, maxFrameLength: MAX_FRAME })
    cleanup.push(async () => { await server.stop() })

    let attacksOver!: () => void
    const over = new Promise<void>((resolve) => { attacksOver = resolve })
    const good = Array.from({ length: GOOD_CLIENTS }, (_, i) => new StackClient({
      id: i + 1,
      port: server.port,
      count: GOOD_COUNT,
      size: seq => 8 + ((seq * 37 + i) % 1024),
      heartbeat: HEARTBEAT,
      reconnect: { initialDelay: 20, maxDelay: 100 },
      // half the stream while the attacks run, the rest after every attacker was closed
      before: seq => seq === GOOD_COUNT / 2 ? over : undefined
    }))
    for (const c of good) cleanup.push(async () => { c.durable.abort(new Error('test over')) })
    const sending = good.map(async (c) => { await c.send() })

    const attackers = await Promise.all(ATTACKS.map(async a => await attack(server.port, a)))
    for (const { socket } of attackers) cleanup.push(async () => { socket.destroy() })
    const outcomes = await Promise.all(attackers.map(async a => await a.closed))
    await server.changed.until(() => attackers.every(a => [...server.connections.values()].some(r => r.remotePort === a.localPort && r.info !== undefined)), 'the server to record every attacker as gone')
    attacksOver()
    await Promise.all(sending)
    await Promise.all(good.map(async (c) => { await c.close() }))
    await server.stop()

    const byPort = new Map([...server.connections.values()].map(r => [r.remotePort, r]))
    const seen = ATTACKS.map((a, i) => {
      const r = byPort.get(attackers[i].localPort)
      return { name: a.name, reason: r?.info?.reason, error: r?.info?.error?.name, initiator: r?.info?.initiator, readError: r?.error?.name }
    })
    expect(seen).toEqual(ATTACKS.map(a => ({ name: a.name, reason: 'aborted', error: a.expected, initiator: 'local', readError: a.expected })))
    // the server closed them: we never did (the truncated one only half-closed)
    expect(outcomes.every(o => o === 'end' || o === 'ECONNRESET')).toBe(true)
    // frames accepted before the bomb were delivered
    expect(server.received(101).map(a => a.seq)).toEqual([0, 1, 2])
    expect(server.received(103)).toEqual([])

    for (const c of good) {
      const report = checkLedger({ ...c.ledger(), arrivals: server.received(c.init.id) })
      expect(report.violations).toEqual([])
      expect(report).toMatchObject({ handed: GOOD_COUNT, delivered: GOOD_COUNT, lost: 0, unconfirmed: 0, duplicates: 0, arrivalInversions: 0 })
      expect(c.durable.stats().reconnects).toBe(0)
      expect(c.timeouts).toBe(0)
    }
    const goodPorts = new Set(attackers.map(a => a.localPort))
    const goodRecords = [...server.connections.values()].filter(r => !goodPorts.has(r.remotePort ?? -1))
    expect(goodRecords.map(r => [r.info?.reason, r.error])).toEqual(good.map(() => ['closed', undefined]))
  })
})
