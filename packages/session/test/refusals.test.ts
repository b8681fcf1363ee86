import net from 'node:net'
import type { Frame } from '@proto/codec'
import { decode, decodeGoAway, encode, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { Resume, SessionServer, SessionServerEvents } from '../src/index.js'
import { decodeResume, encodeResume, SESSION_FLAG, sessionClient, SessionFrameType, SessionGoAwayCode, sessionServer } from '../src/index.js'

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

describe('a connection taken over (real TCP)', () => {
  /** A raw peer on `port`: writes `frames`, collects the frames it reads and how its socket ended. */
  function rawPeer (port: number): { socket: net.Socket, frames: () => Frame[], ended: Promise<'fin' | 'reset'>, send(frames: Frame[]): void } {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    let how: 'fin' | 'reset' = 'fin'
    socket.on('error', () => { how = 'reset' })
    socket.on('end', () => { socket.end() })
    const ended = new Promise<'fin' | 'reset'>((resolve) => { socket.on('close', () => { resolve(how) }) })
    return {
      socket,
      frames: () => [...decode([Buffer.concat(chunks)])],
      ended,
      send (frames) { if (!socket.destroyed) for (const chunk of encode(frames)) socket.write(chunk.subarray()) }
    }
  }
  const resume = (r: Partial<Resume>): Frame => ({
    type: SessionFrameType.RESUME,
    body: encodeResume({ fresh: true, token: new Uint8Array(16), id: new Uint8Array(8), next: 1, maxAckDelay: 25, windowMessages: 4_096, windowBytes: 1 << 20, ttl: 0, ...r })
  })
  const until = async (check: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(check()).toBe(true)
  }

  it('while its peer is still writing, it is sent GOAWAY SESSION_TAKEN_OVER and a FIN, not a reset that would lose them', async () => {
    const { s, port } = await serving()
    s.addEventListener('session', (e) => { void (async () => { for await (const _ of e.detail.source) { /* reads everything */ } })().catch(() => {}) })
    for (let trial = 0; trial < 5; trial++) {
      const old = rawPeer(port)
      old.send([hello(), resume({})])
      let answer: Resume | undefined
      await until(() => {
        const f = old.frames().find(f => f.type === SessionFrameType.RESUME)
        if (f !== undefined) answer = decodeResume(f.body)
        return answer !== undefined
      })
      // the old connection writes an item every millisecond, until it ends
      let n = 0
      const writing = setInterval(() => { old.send([{ type: 0x40, body: Uint8Array.of(n++ & 0xff) }]) }, 1)
      try {
        await new Promise(resolve => setTimeout(resolve, 30))
        const newer = rawPeer(port)
        newer.send([hello(), resume({ fresh: false, token: (answer as Resume).token, next: 1 })])
        await until(() => newer.frames().some(f => f.type === SessionFrameType.RESUME))
        await old.ended
        const goAway = old.frames().find(f => f.type === FrameType.GOAWAY)
        expect(goAway === undefined ? undefined : decodeGoAway(goAway.body).code, `trial ${trial}`).toBe(SessionGoAwayCode.SESSION_TAKEN_OVER)
        newer.socket.destroy()
      } finally {
        clearInterval(writing)
        old.socket.destroy()
      }
    }
  })
})
