import { connect as netConnect } from 'node:net'
import { codec, decodeGoAway, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { encodeResume, sessionServer } from '@proto/session'
import { listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * A peer that breaks the protocol is told why (GOAWAY PROTOCOL_ERROR) before its connection ends, also
 * when the server's application consumes the stage in push mode: an echo, `link.sink(link.source)`, and
 * the session server. The echo used to fail its own writing with the error it read and reset the
 * connection before the GOAWAY went out.
 */

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const HEARTBEAT = { interval: 1_000, timeout: 4_000 }

function frame (type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(5 + body.byteLength)
  out.writeUInt32BE(body.byteLength, 0)
  out[4] = type
  out.set(body, 5)
  return out
}

/** Every frame the server sent until it closed, and how the connection ended. */
interface Received { frames: Array<{ type: number, body: Buffer }>, error: string | undefined }

/** A raw client that writes `first`, then (after `pause` ms) `bad`, and reads everything until the close. */
async function exchange (port: number, first: Buffer[], bad: Buffer, pause = 200): Promise<Received> {
  const socket = netConnect({ host: '127.0.0.1', port })
  const chunks: Buffer[] = []
  let error: string | undefined
  socket.on('data', (d: Buffer) => { chunks.push(d) })
  socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code })
  const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  await new Promise<void>((resolve) => { socket.once('connect', resolve) })
  for (const b of first) socket.write(b)
  await new Promise(resolve => setTimeout(resolve, pause))
  socket.write(bad)
  await closed
  const bytes = Buffer.concat(chunks)
  const frames: Received['frames'] = []
  for (let at = 0; at + 5 <= bytes.length;) {
    const n = bytes.readUInt32BE(at)
    frames.push({ type: bytes[at + 4] as number, body: bytes.subarray(at + 5, at + 5 + n) })
    at += 5 + n
  }
  return { frames, error }
}

function expectGoAway (r: Received): void {
  expect(r.error).toBeUndefined() // a FIN, not a reset
  const last = r.frames.at(-1)
  expect(last?.type).toBe(FrameType.GOAWAY)
  expect(decodeGoAway(last?.body ?? new Uint8Array(0))).toEqual({ code: GoAwayCode.PROTOCOL_ERROR, reason: 'protocol_error' })
}

describe('GOAWAY before the end, with the stage consumed in push mode', () => {
  it('an echo (link.sink(link.source)): a PING longer than 64 bytes gets GOAWAY PROTOCOL_ERROR and a FIN; what came before it was echoed', async () => {
    const failures: string[] = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
      const link = heartbeat(codec(conn), HEARTBEAT)
      await link.sink(link.source).catch((err: Error) => { failures.push(err.name) })
    })
    cleanups.push(async () => { await server.close({ deadline: 1_000 }) })
    const r = await exchange((server.address as { port: number }).port, [frame(FrameType.DATA, Buffer.from('a'))], frame(FrameType.PING, new Uint8Array(65)))
    expectGoAway(r)
    expect(r.frames.filter(f => f.type === FrameType.DATA).map(f => f.body.toString())).toEqual(['a'])
    expect(failures).toEqual(['ProtocolViolationError'])
  })

  it('the session server: a heartbeat violation after the handshake gets GOAWAY PROTOCOL_ERROR and a FIN', async () => {
    const server = sessionServer({ heartbeat: HEARTBEAT })
    server.addEventListener('session', ({ detail: session }) => { session.sink(session.source).catch(() => {}) })
    const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await server.handle(conn) })
    cleanups.push(async () => { server.abort(new Error('test over')); await tcp.close({ deadline: 1_000 }) })
    const hello = frame(FrameType.HELLO, encodeHello({ flags: 0x01, interval: HEARTBEAT.interval, timeout: HEARTBEAT.timeout }))
    const resume = frame(FrameType.RESUME, encodeResume({ fresh: true, token: new Uint8Array(16), id: new Uint8Array(8), next: 1, maxAckDelay: 25, windowMessages: 64, windowBytes: 65_536, ttl: 0 }))
    const r = await exchange((tcp.address as { port: number }).port, [hello, resume], frame(FrameType.PING, new Uint8Array(65)))
    expect(r.frames.map(f => f.type).slice(0, 2)).toEqual([FrameType.HELLO, FrameType.RESUME]) // its HELLO and RESUME
    expectGoAway(r)
  })
})
