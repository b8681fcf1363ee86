import net from 'node:net'
import type { Frame } from '@proto/codec'
import { decode, decodeGoAway, encode, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { Resume, SessionServer, SessionServerEvents, SessionServerInit } from '../src/index.js'
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
async function serving (init: SessionServerInit = {}): Promise<{ s: SessionServer, refused: Array<SessionServerEvents['refused']>, port: number }> {
  const s = server = sessionServer(init)
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

describe('a connection taken over (real TCP)', () => {
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

describe('a peer that sends beyond what it may leave unacknowledged (real TCP)', () => {
  const items = (from: number, n: number, size = 1): Frame[] => Array.from({ length: n }, (_, i) => ({ type: 0x40, body: new Uint8Array(size).fill((from + i) & 0xff) }))
  /** A session server whose application takes nothing until `release()`, and what it took then. */
  async function holding (init: SessionServerInit): Promise<{ s: SessionServer, port: number, release: () => void, taken: () => number }> {
    const { s, port } = await serving(init)
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    let n = 0
    s.addEventListener('session', (e) => {
      void (async () => {
        await released
        for await (const _ of e.detail.source) n++
      })().catch(() => {})
    })
    return { s, port, release, taken: () => n }
  }
  const settled = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 150)) }
  const goAway = (peer: ReturnType<typeof rawPeer>): { code: number, reason: string } | undefined => {
    const f = peer.frames().find(f => f.type === FrameType.GOAWAY)
    return f === undefined ? undefined : decodeGoAway(f.body)
  }

  it('one that knows the inbound extension may queue up to the limit announced to it, and is sent GOAWAY PROTOCOL_ERROR and closed beyond it, never acknowledged; the server serves the next client', async () => {
    const { s, port } = await holding({ inbound: { maxMessages: 64, maxBytes: 1 << 20 } })
    const peer = rawPeer(port)
    // its own window is far larger: the server's inbound limit (64 items, told in the server's RESUME) is what binds it
    peer.send([hello(), resume({ windowMessages: 4_096, inboundMessages: 16_384, inboundBytes: 4 << 20 })])
    await until(() => peer.frames().some(f => f.type === SessionFrameType.RESUME))
    expect(decodeResume((peer.frames().find(f => f.type === SessionFrameType.RESUME) as Frame).body).inboundMessages).toBe(64)
    peer.send(items(1, 64))
    await settled()
    expect(peer.socket.destroyed).toBe(false) // within the limit: only waits for the application
    expect(goAway(peer)).toBeUndefined()
    peer.send(items(65, 256))
    await until(() => peer.socket.destroyed)
    expect(goAway(peer)).toMatchObject({ code: GoAwayCode.PROTOCOL_ERROR, reason: expect.stringContaining('unacknowledged') })
    expect(peer.frames().filter(f => f.type === SessionFrameType.ACK)).toEqual([]) // the application took none: nothing was acknowledged
    expect(s.stats()).toMatchObject({ protocolErrors: 1 })
    const next = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }))
    try {
      await new Promise<void>((resolve) => { next.addEventListener('connected', () => { resolve() }, { once: true }) })
    } finally {
      next.abort(new Error('test over'))
    }
  })

  it('so is one that sends beyond its own window, whatever it knows; one larger item alone is not', async () => {
    const { port } = await holding({})
    const within = rawPeer(port)
    // the oldest unacknowledged item goes alone whatever its size: 8 KiB against a 4 KiB window
    within.send([hello(), resume({ windowMessages: 16, windowBytes: 4_096 }), ...items(1, 1, 8_192)])
    await until(() => within.frames().some(f => f.type === SessionFrameType.RESUME))
    await settled()
    expect(within.socket.destroyed).toBe(false)
    expect(goAway(within)).toBeUndefined()
    within.socket.destroy()

    const beyond = rawPeer(port)
    beyond.send([hello(), resume({ windowMessages: 16, windowBytes: 1 << 20 })])
    await until(() => beyond.frames().some(f => f.type === SessionFrameType.RESUME))
    beyond.send(items(1, 64))
    await until(() => beyond.socket.destroyed)
    expect(goAway(beyond)).toMatchObject({ code: GoAwayCode.PROTOCOL_ERROR, reason: expect.stringContaining('at most 16 items') })
  })

  it('one that predates the inbound extension may send its whole window: the server stops reading until its application takes them, and loses none', async () => {
    const { port, release, taken } = await holding({ inbound: { maxMessages: 64, maxBytes: 1 << 20 } })
    const peer = rawPeer(port)
    // a RESUME of 49 bytes (no inbound extension) and a window of 4096 items: 1000 are within it
    peer.send([hello(), resume({ windowMessages: 4_096 })])
    await until(() => peer.frames().some(f => f.type === SessionFrameType.RESUME))
    peer.send(items(1, 1_000))
    await settled()
    expect(peer.socket.destroyed).toBe(false)
    expect(goAway(peer)).toBeUndefined()
    release()
    await until(() => taken() === 1_000)
    expect(goAway(peer)).toBeUndefined()
  })
})
