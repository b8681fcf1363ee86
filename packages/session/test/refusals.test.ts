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
 * Writes `frames` (the default framing) to the server as a raw peer, or leaves at once without any; the
 * GOAWAY it got before the connection closed.
 */
async function sendRaw (port: number, frames: Frame[]): Promise<{ code: number, reason: string } | undefined> {
  const socket = net.connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => { chunks.push(chunk) })
  socket.on('error', () => {})
  for (const chunk of encode(frames)) socket.write(chunk.subarray())
  if (frames.length === 0) socket.end()
  await new Promise<void>((resolve) => { socket.on('close', () => { resolve() }) })
  const goAway = [...decode([Buffer.concat(chunks)])].find(f => f.type === FrameType.GOAWAY)
  return goAway === undefined ? undefined : decodeGoAway(goAway.body)
}

const hello = (init: { version?: number, interval?: number, timeout?: number } = {}): Frame => ({
  type: FrameType.HELLO,
  body: encodeHello({ flags: SESSION_FLAG, interval: 1_000, timeout: 5_000, ...init })
})

describe('connections refused at HELLO (real TCP)', () => {
  it('each is counted and reported as a refusal with the GOAWAY code it was sent; a well-formed session is served after them', async () => {
    server = sessionServer()
    const refused: Array<SessionServerEvents['refused']> = []
    server.addEventListener('refused', (e) => { refused.push(e.detail) })
    const s = server
    tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await s.handle(conn) })
    const port = (tcp.address as { port: number }).port
    const cases: Array<[Frame[], number]> = [
      [[{ type: 0x40, body: Uint8Array.of(1) }], GoAwayCode.PROTOCOL_ERROR], // data before HELLO
      [[hello({ version: 9 })], GoAwayCode.DO_NOT_RETRY], // a version this server does not speak
      [[hello({ interval: 0xffff_ffff, timeout: 0 })], GoAwayCode.DO_NOT_RETRY] // no usable heartbeat
    ]
    for (const [frames, code] of cases) expect((await sendRaw(port, frames))?.code).toBe(code)
    expect(refused.map(r => [r.reason, r.code])).toEqual(cases.map(([, code]) => ['protocol', code]))
    expect(server.stats().refused.protocol).toBe(cases.length)
    // a peer that leaves before its HELLO was not refused
    await sendRaw(port, [])
    expect(server.stats().refused.protocol).toBe(cases.length)
    const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }))
    try {
      await new Promise((resolve) => { client.addEventListener('open', resolve, { once: true }) })
      expect(server.stats()).toMatchObject({ sessions: 1, created: 1 })
    } finally {
      client.abort(new Error('test over'))
    }
  })
})
