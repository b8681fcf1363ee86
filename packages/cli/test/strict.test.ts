import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { RawPeer } from './helpers/peers.js'
import { packBI, packGoAway, packProto, startProtoPeer, startRawPeer } from './helpers/peers.js'
import { startProto, startServer } from './helpers/proto.js'

/**
 * How soon a strict side must close a peer that broke the rules: at once, not after a heartbeat timeout
 * (45 s here). Unloaded it takes a few ms; the bound is generous so a loaded machine cannot fail it, and still
 * an order of magnitude below the timeout it tells apart.
 */
const AT_ONCE_MS = 5_000

/** GOAWAY PROTOCOL_ERROR (code 1, reason `protocol_error`), as a strict @proto side sends it before closing. */
const GOAWAY_PROTOCOL_ERROR = packGoAway(1, 'protocol_error')

/** A raw `node:net` client: what it read, and when its connection closed after `send()`. */
interface RawClient {
  readonly socket: net.Socket
  /** Everything read so far. */
  bytes(): Buffer
  /** Writes `data`; resolves with what was read and how many ms after this write the connection closed. */
  sendAndWaitClose(data: Buffer): Promise<{ bytes: Buffer, afterMs: number }>
  /** Writes `data` and resolves with the next `length` bytes read. */
  request(data: Buffer, length: number): Promise<Buffer>
}

async function rawClient (port: number): Promise<RawClient> {
  const socket = net.connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {}) // a reset shows up as 'close'
  let got = Buffer.alloc(0)
  const wakers = new Set<() => void>()
  socket.on('data', (c: Buffer) => { got = Buffer.concat([got, c]); for (const w of wakers) w() })
  const closed = new Promise<number>((resolve) => { socket.on('close', () => { resolve(performance.now()) }) })
  await new Promise(resolve => socket.once('connect', resolve))
  return {
    socket,
    bytes: () => got,
    sendAndWaitClose: async (data) => {
      const sentAt = performance.now()
      socket.write(data)
      const at = await closed
      return { bytes: got, afterMs: at - sentAt }
    },
    request: async (data, length) => {
      const from = got.length
      socket.write(data)
      await new Promise<void>((resolve) => {
        const check = (): void => { if (got.length >= from + length) { wakers.delete(check); resolve() } }
        wakers.add(check)
      })
      return got.subarray(from, from + length)
    }
  }
}

describe("--strict on a '!BI' server (proto listen -f structBI --strict)", () => {
  it('closes a client sending an unknown type and one sending a ping with a body, at once, while a good client carries on', async () => {
    const { proc, port } = await startServer(['listen', '0', '-f', 'structBI', '--strict', '--echo', '-o', 'json'])
    expect(proc.stderr()).toMatch(/^proto: listening on 127\.0\.0\.1:\d+ \(structBI, heartbeat 15s\/45s, strict, echo\)$/m)
    const good = await rawClient(port)
    expect(await good.request(packBI(0x00, 'one'), 8)).toEqual(packBI(0x00, 'one'))
    expect(await good.request(packBI(0x01), 5)).toEqual(packBI(0x02)) // its empty ping is answered

    const unknown = await rawClient(port)
    await proc.waitForStderr(/\[s2\] connected/)
    // DATA before the offending frame is still delivered (printed), in the same write
    const u = await unknown.sendAndWaitClose(Buffer.concat([packBI(0x00, 'before'), packBI(0x07)]))
    expect(u.afterMs).toBeLessThan(AT_ONCE_MS)
    await proc.waitForStderr(/^proto: \[s2\] closed \(aborted\): ProtocolViolationError: expected a frame of an allowed type, but got type 0x07;/m)

    const pingBody = await rawClient(port)
    const b = await pingBody.sendAndWaitClose(packBI(0x01, Buffer.from([0xFF])))
    expect(b.afterMs).toBeLessThan(AT_ONCE_MS)
    expect(b.bytes.length).toBe(0) // no pong for it
    await proc.waitForStderr(/^proto: \[s3\] closed \(aborted\): ProtocolViolationError: expected a PING body of at most 0 bytes, but got 1;/m)

    expect(await good.request(packBI(0x00, 'two'), 8)).toEqual(packBI(0x00, 'two'))
    good.socket.end()
    await proc.waitForStderr(/\[s1\] closed \(closed\)/)
    expect(proc.stdout().toString().trimEnd().split('\n').map(l => JSON.parse(l) as { conn: string, text: string }).map(f => `${f.conn}:${f.text}`))
      .toEqual(['s1:one', 's2:before', 's1:two'])
    expect(proc.stderr()).not.toMatch(/\[s1\] closed \(aborted\)/)
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })
})

describe('--strict in the proto format', () => {
  it('a client sending a reserved type, or a ping body over 64 bytes, gets GOAWAY PROTOCOL_ERROR and a FIN at once; application types are served', async () => {
    const { proc, port } = await startServer(['listen', '0', '--strict', '--echo', '-o', 'none'])
    const good = await rawClient(port)
    expect(await good.request(packProto(0x40, 'app'), 8)).toEqual(packProto(0x40, 'app'))
    const ping = packProto(0x02, Buffer.alloc(64, 0xAB)) // the longest ping docs/PROTOCOL.md allows
    expect(await good.request(ping, ping.length)).toEqual(packProto(0x03, Buffer.alloc(64, 0xAB)))

    for (const bad of [packProto(0x07), packProto(0x02, Buffer.alloc(65, 0xAB))]) {
      const client = await rawClient(port)
      const r = await client.sendAndWaitClose(bad)
      expect(r.afterMs).toBeLessThan(AT_ONCE_MS)
      expect(r.bytes).toEqual(GOAWAY_PROTOCOL_ERROR)
    }
    await proc.waitForStderr(/\[s2\] closed [^\n]*ProtocolViolationError: expected a frame of an allowed type, but got type 0x07/)
    await proc.waitForStderr(/\[s3\] closed [^\n]*ProtocolViolationError: expected a PING body of at most 64 bytes, but got 65/)
    expect(await good.request(packProto(0x00, 'still'), 10)).toEqual(packProto(0x00, 'still'))
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })
})

describe('proto connect --strict', () => {
  let peer: RawPeer | undefined
  afterEach(async () => { await peer?.close() })

  it('in the proto format the peer is sent GOAWAY PROTOCOL_ERROR; --reconnect gives up at once instead of redialling', async () => {
    for (const reconnect of [[], ['--reconnect', '--initial-delay', '20ms']]) {
      peer = await startProtoPeer({ sendFirst: packProto(0x07) }) // a reserved type as its first frame
      const proc = startProto(['connect', `127.0.0.1:${peer.port}`, '--strict', ...reconnect], { keepStdin: true })
      expect((await proc.exit()).code).toBe(1)
      const error = reconnect.length === 0 ? 'ProtocolViolationError' : 'ReconnectFailedError: .*ProtocolViolationError'
      expect(proc.stderr()).toMatch(new RegExp(`^proto: error: ${error}: expected a frame of an allowed type, but got type 0x07`, 'm'))
      expect(peer.accepted).toBe(1)
      expect(Buffer.concat(peer.rawIn)).toEqual(GOAWAY_PROTOCOL_ERROR) // told why, even when a reconnecting layer lets the connection go
      await peer.close()
      peer = undefined
    }
  })

  /** A '!BI' peer that answers the first DATA with `reply` (its frames back to back), then waits. */
  async function answering (reply: Buffer): Promise<RawPeer & { closedAfter: Promise<number> }> {
    let answeredAt = 0
    let closed = (_ms: number): void => {}
    const closedAfter = new Promise<number>((resolve) => { closed = resolve })
    const p = await startRawPeer({
      split: b => b.length >= 5 && b.length >= 5 + b.readUInt32BE(1) ? { frame: [b.subarray(0, 5 + b.readUInt32BE(1))], rest: b.subarray(5 + b.readUInt32BE(1)) } : undefined,
      onConnection: (socket) => { socket.on('close', () => { closed(performance.now() - answeredAt) }) },
      onFrame: (_frame, socket) => {
        answeredAt = performance.now()
        socket.write(reply)
      }
    })
    return Object.assign(p, { closedAfter })
  }

  it.each<[string, Buffer, RegExp]>([
    ['an unknown type', packBI(0x07), /expected a frame of an allowed type, but got type 0x07/],
    ['a type outside --allow-types', packBI(0x12), /expected a frame of an allowed type, but got type 0x12/],
    ['a ping with a body', packBI(0x01, 'x'), /expected a PING body of at most 0 bytes, but got 1/]
  ])('closes the connection on %s and exits 1 with ProtocolViolationError; data before it is printed', async (_what, bad, message) => {
    const p = await answering(Buffer.concat([packBI(0x00, 'ok'), packBI(0x11, 'reply'), bad]))
    peer = p
    // stdin stays open: our side never ends by itself, so the connection closing is the strict check's doing
    const proc = startProto(['connect', `127.0.0.1:${p.port}`, '-f', 'structBI', '--allow-types', '0x00,0x11', '-o', 'json'], { stdin: 'hi\n', keepStdin: true })
    expect((await proc.exit()).code).toBe(1)
    const r = { stdout: proc.stdout(), stderr: proc.stderr() }
    expect(r.stdout.toString()).toBe('{"type":0,"length":2,"text":"ok","hex":"6f6b"}\n{"type":17,"length":5,"text":"reply","hex":"7265706c79"}\n')
    expect(r.stderr).toMatch(new RegExp(`^proto: error: ProtocolViolationError: ${message.source}; the peer was sent GOAWAY PROTOCOL_ERROR where the format has one and the connection was closed$`, 'm'))
    expect(await p.closedAfter).toBeLessThan(AT_ONCE_MS)
  })
})
