import net from 'node:net'
import type { Frame } from '@proto/codec'
import { decode, decodeGoAway, encode, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { SessionServer, SessionServerEvents } from '../src/index.js'
import { SESSION_FLAG, sessionClient, sessionServer } from '../src/index.js'

let server: SessionServer | undefined
let tcp: Server | undefined
afterEach(async () => {
  server?.abort(new Error('test over'))
  await tcp?.close({ deadline: 100 })
  server = tcp = undefined
})

/**
 * Writes `frames` (the default framing) or raw bytes to the server as a raw peer (then a FIN, with `end`);
 * with none, leaves at once (`'fin'` or `'reset'`). The GOAWAY it got before the connection closed.
 */
async function sendRaw (port: number, what: Frame[] | Uint8Array | 'fin' | 'reset', end = false): Promise<{ code: number, reason: string } | undefined> {
  const socket = net.connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => { chunks.push(chunk) })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => { socket.on('close', () => { resolve() }) })
  await new Promise<void>((resolve) => { socket.on('connect', () => { resolve() }) })
  if (what === 'fin') socket.end()
  else if (what === 'reset') socket.resetAndDestroy()
  else if (what instanceof Uint8Array) socket.write(what)
  else for (const chunk of encode(what)) socket.write(chunk.subarray())
  if (end) socket.end()
  await closed
  const goAway = [...decode([Buffer.concat(chunks)])].find(f => f.type === FrameType.GOAWAY)
  return goAway === undefined ? undefined : decodeGoAway(goAway.body)
}

/** A session server under `listen()` on a free port (torn down after each test), and its refusals as reported. */
async function serving (): Promise<{ s: SessionServer, refused: Array<SessionServerEvents['refused']>, port: number }> {
  const s = server = sessionServer()
  const refused: Array<SessionServerEvents['refused']> = []
  s.addEventListener('refused', (e) => { refused.push(e.detail) })
  tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await s.handle(conn) })
  return { s, refused, port: (tcp.address as { port: number }).port }
}

const hello = (init: { version?: number, interval?: number, timeout?: number } = {}): Frame => ({
  type: FrameType.HELLO,
  body: encodeHello({ flags: SESSION_FLAG, interval: 1_000, timeout: 5_000, ...init })
})

describe('connections refused at HELLO (real TCP)', () => {
  it('each is counted and reported as a refusal with the GOAWAY code it was sent; a well-formed session is served after them', async () => {
    const { s, refused, port } = await serving()
    const cases: Array<[Frame[], number]> = [
      [[{ type: 0x40, body: Uint8Array.of(1) }], GoAwayCode.PROTOCOL_ERROR], // data before HELLO
      [[hello({ version: 9 })], GoAwayCode.DO_NOT_RETRY], // a version this server does not speak
      [[hello({ interval: 0xffff_ffff, timeout: 0 })], GoAwayCode.DO_NOT_RETRY] // no usable heartbeat
    ]
    for (const [frames, code] of cases) expect((await sendRaw(port, frames))?.code).toBe(code)
    // bytes that are no frame at all (a length beyond maxFrameLength): GOAWAY PROTOCOL_ERROR saying why
    const noFrame = await sendRaw(port, Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0x40))
    expect(noFrame).toMatchObject({ code: GoAwayCode.PROTOCOL_ERROR, reason: expect.stringContaining('maxFrameLength') })
    expect(refused.map(r => [r.reason, r.code])).toEqual([...cases.map(([, code]) => ['protocol', code]), ['protocol', GoAwayCode.PROTOCOL_ERROR]])
    expect(s.stats().refused.protocol).toBe(cases.length + 1)
    // a peer that leaves before its HELLO, cleanly, with a reset or inside a frame, was not refused
    await sendRaw(port, 'fin')
    await sendRaw(port, 'reset')
    await sendRaw(port, Uint8Array.of(0, 0), true)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(s.stats().refused.protocol).toBe(cases.length + 1)
    expect(refused.length).toBe(cases.length + 1)
    const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }))
    try {
      await new Promise((resolve) => { client.addEventListener('open', resolve, { once: true }) })
      expect(s.stats()).toMatchObject({ sessions: 1, created: 1 })
    } finally {
      client.abort(new Error('test over'))
    }
  })
})

describe('connections refused between HELLO and RESUME (real TCP)', () => {
  it('what the stage beneath refuses after a HELLO is counted and reported as a refusal too, with the GOAWAY it sent', async () => {
    const { s, refused, port } = await serving()
    const helloBytes = Buffer.concat([...encode([hello()])].map(c => c.subarray()))
    const cases: Uint8Array[] = [
      Buffer.concat([helloBytes, Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0x40)]), // no frame: a length beyond maxFrameLength
      Buffer.concat([helloBytes, ...[...encode([{ type: FrameType.PING, body: new Uint8Array(65) }])].map(c => c.subarray())]), // a PING body over 64 bytes
      Buffer.concat([helloBytes, helloBytes]) // a second HELLO
    ]
    for (const bytes of cases) expect((await sendRaw(port, bytes))?.code).toBe(GoAwayCode.PROTOCOL_ERROR)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(refused.map(r => [r.reason, r.code])).toEqual(cases.map(() => ['protocol', GoAwayCode.PROTOCOL_ERROR]))
    expect(s.stats().refused.protocol).toBe(cases.length)
  })
})
