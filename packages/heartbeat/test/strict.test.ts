import { decodeGoAway, encodeHello, FrameTooLongError, FrameType, GoAwayCode, InvalidHeaderError } from '@proto/codec'
import { describe, expect, it } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat, MAX_QUEUED_PONG_BYTES, MAX_QUEUED_PONGS } from '../src/index.js'
import { f, rawPeer, settle } from './helpers/raw-peer.js'

const init = { interval: 60_000, timeout: 120_000 }
const text = (body: Uint8Array): string => new TextDecoder().decode(body)
/** The '!BI' peer of the Python world: ping 0x01, pong 0x02, empty bodies, no GOAWAY, data types 0x05 and 0x06. */
const structBI: HeartbeatInit = { ...init, pingType: 0x01, pongType: 0x02, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null, maxPingBody: 0, allowedTypes: [0x05, 0x06] }

async function readAll (hb: HeartbeatDuplex): Promise<{ got: string[], error?: any }> {
  const got: string[] = []
  const r = await settle((async () => { for await (const x of hb.source) got.push(text(x.body)) })())
  return { got, error: r.error }
}

describe('strict checking of what the peer sends', () => {
  it('a frame of a type not allowed: ProtocolViolationError, GOAWAY PROTOCOL_ERROR, then the connection is destroyed; the data before it is delivered', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, allowedTypes: [FrameType.DATA, 0x40] })
    peer.send(f(FrameType.DATA, 'a'), f(0x40, 'b'), f(0x07, 'bad'), f(FrameType.DATA, 'never'))
    const { got, error } = await readAll(hb)
    expect(got).toEqual(['a', 'b'])
    expect(error).toMatchObject({ name: 'ProtocolViolationError', frameType: 0x07, bodyLength: 3 })
    expect(error.message).toContain('0x07')
    expect((await peer.waitAborted())).toBe(error)
    expect(peer.written.map(x => x.type)).toEqual([FrameType.GOAWAY])
    expect(decodeGoAway(peer.written[0].body)).toEqual({ code: GoAwayCode.PROTOCOL_ERROR, reason: 'protocol_error' })
    expect(peer.sinkEnded).toBe(true)
    expect((await settle(hb.sink([]))).error).toBe(error)
  })

  it('bytes the codec cannot read as a frame (a body over maxFrameLength): the peer is sent GOAWAY PROTOCOL_ERROR saying why, then the connection is destroyed', async () => {
    for (const bad of [new FrameTooLongError(2000, 1024), new InvalidHeaderError('a length of 5 bytes where 4 are the most')]) {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, init)
      peer.send(f(FrameType.DATA, 'a'))
      peer.fail(bad)
      const { got, error } = await readAll(hb)
      expect(got).toEqual(['a'])
      expect(error).toBe(bad)
      expect(await peer.waitAborted()).toBe(bad)
      expect(peer.written.map(x => x.type)).toEqual([FrameType.GOAWAY])
      const goAway = decodeGoAway(peer.written[0].body)
      expect(goAway.code).toBe(GoAwayCode.PROTOCOL_ERROR)
      expect(goAway.reason).toBe(`frame refused: ${bad.message}`.slice(0, 200))
    }
    // a failure that is not about the bytes (a reset) goes without a GOAWAY
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.fail(new Error('reset'))
    await readAll(hb)
    await peer.waitAborted()
    expect(peer.written).toEqual([])
  })

  it('the stage\'s own control types are always allowed', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, allowedTypes: [0x40] })
    peer.send(f(FrameType.PING, 'p'), f(0x40, 'x'))
    expect(text((await hb.source.next()).value.body)).toBe('x')
    await peer.waitWritten(1)
    expect(peer.written[0].type).toBe(FrameType.PONG)
    hb.abort(new Error('done'))
  })

  it("a foreign '!BI' peer: an unknown type or a ping with a body closes the connection at once (no GOAWAY in that format)", async () => {
    for (const bad of [f(0x07), f(0x01, 'body')]) {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, structBI)
      peer.send(f(0x05, 'ok'), f(0x01), bad)
      const { got, error } = await readAll(hb)
      expect(got).toEqual(['ok'])
      expect(error?.name).toBe('ProtocolViolationError')
      expect(peer.aborted).toBe(error) // at once: nothing to flush first
      expect(peer.written.map(x => [x.type, x.body.byteLength])).toEqual([[0x02, 0]]) // the good ping was answered
    }
  })

  it('PING bodies up to maxPingBody (64 by default) are answered; a longer one is a violation', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.send(f(FrameType.PING, new Uint8Array(64)))
    await peer.waitWritten(1)
    expect(peer.written[0]).toMatchObject({ type: FrameType.PONG, body: new Uint8Array(64) })
    peer.send(f(FrameType.PING, new Uint8Array(65)))
    const { error } = await readAll(hb)
    expect(error).toMatchObject({ name: 'ProtocolViolationError', frameType: FrameType.PING, bodyLength: 65 })
    expect(hb.stats().pongsSent).toBe(1)
  })

  it('a PONG body longer than maxPingBody is a violation too', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, maxPingBody: 8 })
    peer.send(f(FrameType.PONG, new Uint8Array(9)))
    expect((await readAll(hb)).error).toMatchObject({ name: 'ProtocolViolationError', frameType: FrameType.PONG })
  })

  it('maxPingBody Infinity answers any ping', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, maxPingBody: Infinity })
    peer.send(f(FrameType.PING, new Uint8Array(1024 * 1024)))
    await peer.waitWritten(1)
    expect(peer.written[0].body.byteLength).toBe(1024 * 1024)
    hb.abort(new Error('done'))
  })

  it('a second HELLO is a violation', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, hello: true })
    const hello = f(FrameType.HELLO, encodeHello({ interval: 1000, timeout: 3000 }))
    peer.send(hello, f(FrameType.DATA, 'a'), hello)
    const { got, error } = await readAll(hb)
    expect(got).toEqual(['a'])
    expect(error?.name).toBe('ProtocolViolationError')
  })
})

describe('control traffic is bounded', () => {
  it(`a peer that pings while not reading gets at most ${MAX_QUEUED_PONGS} queued pongs; the rest are dropped and counted`, async () => {
    const peer = rawPeer({ batchedSink: true })
    peer.holdWrites() // the writer never asks
    const hb = heartbeat(peer.lower, init)
    for (let i = 0; i < 100; i++) peer.send(f(FrameType.PING, new Uint8Array([i])))
    await new Promise(resolve => setImmediate(resolve))
    const stats = hb.stats()
    expect(stats.pingsReceived).toBe(100)
    expect(stats.pongsDropped).toBe(100 - MAX_QUEUED_PONGS)
    peer.releaseWrites()
    await peer.waitWritten(MAX_QUEUED_PONGS)
    for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
    expect(peer.written.map(x => x.body[0])).toEqual(Array.from({ length: MAX_QUEUED_PONGS }, (_, i) => i))
    expect(hb.stats().pongsSent).toBe(MAX_QUEUED_PONGS)
    expect(peer.aborted).toBeUndefined() // legal pings: bounded, not punished
    hb.abort(new Error('done'))
  })

  it(`and at most ${MAX_QUEUED_PONG_BYTES} bytes of pong bodies`, async () => {
    const peer = rawPeer({ batchedSink: true })
    peer.holdWrites()
    const hb = heartbeat(peer.lower, { ...init, maxPingBody: Infinity })
    const size = 10_000
    for (let i = 0; i < 20; i++) peer.send(f(FrameType.PING, new Uint8Array(size)))
    await new Promise(resolve => setImmediate(resolve))
    const fit = Math.floor(MAX_QUEUED_PONG_BYTES / size)
    expect(hb.stats().pongsDropped).toBe(20 - fit)
    peer.releaseWrites()
    await peer.waitWritten(fit)
    hb.abort(new Error('done'))
  })

  it('our own control frames are never dropped: a GOAWAY goes out behind a full pong queue', async () => {
    const peer = rawPeer({ batchedSink: true })
    peer.holdWrites()
    const hb = heartbeat(peer.lower, { ...init, allowedTypes: [] })
    for (let i = 0; i < 40; i++) peer.send(f(FrameType.PING))
    peer.send(f(0x40, 'refused'))
    await new Promise(resolve => setImmediate(resolve))
    peer.releaseWrites()
    expect((await peer.waitAborted()).name).toBe('ProtocolViolationError')
    expect(peer.written.at(-1)?.type).toBe(FrameType.GOAWAY)
    expect(peer.written).toHaveLength(MAX_QUEUED_PONGS + 1)
    void hb
  })
})

describe('strict options', () => {
  const bad: Array<[string, HeartbeatInit]> = [
    ['an allowed type above 255', { allowedTypes: [256] }],
    ['allowedTypes that is not iterable', { allowedTypes: 5 as unknown as number[] }],
    ['maxPingBody below our own sequence ping', { maxPingBody: 4 }],
    ['maxPingBody below our own fixed ping body', { pingBody: new Uint8Array(10), maxPingBody: 9 }],
    ['a negative maxPingBody', { maxPingBody: -1 }],
    ['goAwayType equal to pingType', { goAwayType: FrameType.PING }]
  ]
  for (const [name, options] of bad) {
    it(`rejects ${name} at once`, () => {
      expect(() => heartbeat(rawPeer().lower, options)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    })
  }

  it('checks every stage\'s options, whatever stages with options that print alike were made before', () => {
    const pairs: Array<[HeartbeatInit, unknown]> = [
      [{ ...init, interval: 1000, timeout: 3000 }, { ...init, interval: '1000', timeout: 3000 }],
      [{ ...init, hello: true }, { ...init, hello: 'true' }],
      [{ ...init, allowedTypes: [0x40, 0x41] }, { ...init, allowedTypes: '[64,65]' }],
      [{ ...init, adaptive: {} }, { ...init, adaptive: '{}' }]
    ]
    for (const [good, wrong] of pairs) {
      expect(() => heartbeat(rawPeer().lower, good)).not.toThrow()
      expect(() => heartbeat(rawPeer().lower, wrong as HeartbeatInit)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })

  it('a set of allowed types changed after a stage was made applies to the stages made after', async () => {
    const types = new Set([0x40])
    const first = rawPeer()
    const hb1 = heartbeat(first.lower, { ...init, allowedTypes: types })
    first.send(f(0x41, 'x'))
    expect((await readAll(hb1)).error).toMatchObject({ name: 'ProtocolViolationError', frameType: 0x41 })
    types.add(0x41)
    const second = rawPeer()
    const hb2 = heartbeat(second.lower, { ...init, allowedTypes: types })
    second.send(f(0x41, 'x'))
    expect(text((await hb2.source.next()).value.body)).toBe('x')
  })

  it('accepts empty pings with maxPingBody 0 when our own ping body is empty, and answers them', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, pingBody: new Uint8Array(0), maxPingBody: 0 })
    peer.send(f(FrameType.PING), f(FrameType.DATA, 'after'))
    expect(text((await hb.source.next()).value.body)).toBe('after')
    await peer.waitWritten(1)
    expect(peer.written.map(x => [x.type, x.body.byteLength])).toEqual([[FrameType.PONG, 0]])
    expect(peer.aborted).toBeUndefined()
    hb.abort(new Error('done'))
  })
})
