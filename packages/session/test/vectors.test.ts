import type { Frame } from '@proto/codec'
import { codec, decodeHello } from '@proto/codec'
import { toUint8Array } from '@proto/interface'
import { memoryBytePair } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { decodeAck, decodeEnd, decodeResume, encodeAck, encodeEnd, encodeResume, isSequenced, SESSION_FLAG } from '../src/index.js'
import { acks, ends, numbering, rejections, resumes, wireFrames } from './vectors.js'

describe('PROTOCOL.md §7 session vectors', () => {
  it.each(resumes)('RESUME $id round-trips', (v) => {
    const inbound = v.inboundMessages !== undefined && v.inboundBytes !== undefined ? { inboundMessages: v.inboundMessages, inboundBytes: v.inboundBytes } : {}
    const fields = { fresh: v.fresh, token: v.token, id: v.sessionId, next: v.next, maxAckDelay: v.maxAckDelay, windowMessages: v.windowMessages, windowBytes: v.windowBytes, ttl: v.ttl, ...inbound }
    expect(encodeResume(fields)).toEqual(v.body)
    expect(decodeResume(v.body)).toEqual(fields)
    // bytes after the ones this version defines are extensions: a reader skips them
    const longer = new Uint8Array(v.body.byteLength + 7)
    longer.set(v.body)
    expect(decodeResume(longer)).toEqual(fields)
  })

  it('a decoded RESUME owns its token and id: no view into the received bytes, even from a Buffer', () => {
    const body = Buffer.from(resumes[1].body)
    const decoded = decodeResume(body)
    body.fill(0xee)
    expect(decoded.token).toEqual(resumes[1].token)
    expect(decoded.id).toEqual(resumes[1].sessionId)
  })

  it.each(acks)('ACK $id round-trips', (v) => {
    expect(encodeAck({ position: v.position, end: v.end })).toEqual(v.body)
    expect(decodeAck(v.body)).toEqual({ position: v.position, end: v.end })
  })

  it.each(ends)('END $id round-trips', (v) => {
    expect(encodeEnd(v.position)).toEqual(v.body)
    expect(decodeEnd(v.body)).toEqual(v.position)
  })

  it.each(rejections)('$id is refused with SessionProtocolError', (v) => {
    const decode = { RESUME: decodeResume, ACK: decodeAck, END: decodeEnd }[v.type as 'RESUME' | 'ACK' | 'END']
    expect(decode).toBeDefined()
    expect(() => decode(v.body)).toThrow(expect.objectContaining({ name: 'SessionProtocolError' }))
  })

  it('refuses to encode a position above 2^53 − 1', () => {
    expect(() => encodeAck({ position: 2 ** 53, end: false })).toThrow(RangeError)
    expect(() => encodeEnd(2 ** 53)).toThrow(RangeError)
    expect(() => encodeResume({ ...resumes[0], id: resumes[0].sessionId, next: 2 ** 53 })).toThrow(RangeError)
    // the inbound extension: both fields or neither
    expect(() => encodeResume({ ...resumes[0], id: resumes[0].sessionId, inboundMessages: 1 })).toThrow(RangeError)
  })

  it.each(wireFrames)('$id: the codec writes the documented bytes and reads them back', async (v) => {
    const out = memoryBytePair()
    const raw: Uint8Array[] = []
    await Promise.all([
      codec(out.a).sink(v.frames),
      (async () => { for await (const chunk of out.b.source) raw.push(toUint8Array(chunk)) })()
    ])
    expect(Buffer.concat(raw)).toEqual(Buffer.from(v.wire))
    const back = memoryBytePair()
    const frames: Frame[] = []
    await Promise.all([
      back.a.sink([v.wire]),
      (async () => { for await (const f of codec(back.b).source) frames.push(f) })()
    ])
    expect(frames.map(f => [f.type, Buffer.from(f.body)])).toEqual(v.frames.map(f => [f.type, Buffer.from(f.body)]))
  })

  it('the HELLO vector announces the session flag', () => {
    const hello = wireFrames.find(v => v.id === 'hello-session')?.frames[0]
    expect(hello).toBeDefined()
    expect((decodeHello(hello!.body).flags & SESSION_FLAG) !== 0).toBe(true)
  })

  it.each(numbering)('numbering $id: one classifier decides which frames take a sequence number', (v) => {
    let next = 1
    const positions = v.types.map(t => isSequenced(t) ? next++ : undefined)
    expect(positions).toEqual(v.positions)
  })
})
