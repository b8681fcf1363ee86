import * as shared from '@proto/interface'
import { describe, expect, it } from 'vitest'
import { decodeGoAway, decodeHello, encodeGoAway, encodeHello, GoAwayCode, InvalidParametersError, isFinalGoAway, ProtocolVersionError } from '../src/index.js'
import { roundTrips } from './vectors.js'

function vectorBody (id: string): Uint8Array {
  const vector = roundTrips.find(v => v.id === id)
  if (vector == null) throw new Error(`no vector ${id} in docs/PROTOCOL.md`)
  return vector.frames[0].body
}

describe('HELLO bodies (docs/PROTOCOL.md §3.1)', () => {
  it('encodes the documented bytes and decodes them back', () => {
    const body = encodeHello({ interval: 15_000, timeout: 45_000 })
    expect(body).toEqual(vectorBody('hello-v1'))
    expect(decodeHello(body)).toEqual({ version: 1, flags: 0, interval: 15_000, timeout: 45_000 })
  })

  it('reads a longer body (extensions) and ignores what follows the 14 bytes', () => {
    const longer = new Uint8Array(20)
    longer.set(encodeHello({ interval: 1, timeout: 2 }))
    expect(decodeHello(longer)).toMatchObject({ interval: 1, timeout: 2 })
  })

  it('rejects a body that is not a HELLO, and another version, with typed errors', () => {
    expect(() => decodeHello(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toThrow(expect.objectContaining({ name: 'InvalidControlFrameError' }))
    expect(() => decodeHello(encodeHello({ version: 2, interval: 1, timeout: 2 }))).toThrow(expect.objectContaining({ name: 'ProtocolVersionError', version: 2, supported: 1 }))
  })

  it('throws the error classes shared by every @proto package', () => {
    expect(InvalidParametersError).toBe(shared.InvalidParametersError)
    expect(ProtocolVersionError).toBe(shared.ProtocolVersionError)
    expect(() => decodeHello(encodeHello({ version: 2, interval: 1, timeout: 2 }))).toThrow(shared.ProtocolVersionError)
    expect(() => encodeHello({ interval: 1.5, timeout: 1 })).toThrow(shared.InvalidParametersError)
    expect(() => encodeHello({ interval: 1.5, timeout: 1 })).toThrow('expected HELLO interval to be a whole number from 0 to 4294967295, but got 1.5')
  })

  it('refuses values that do not fit the fields', () => {
    expect(() => encodeHello({ interval: -1, timeout: 1 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => encodeHello({ interval: 1, timeout: 2 ** 32 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => encodeHello({ version: 256, interval: 1, timeout: 1 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})

describe('GOAWAY bodies (docs/PROTOCOL.md §3.2)', () => {
  it('encodes the documented bytes and decodes them back', () => {
    const body = encodeGoAway({ code: GoAwayCode.SHUTTING_DOWN, reason: 'bye' })
    expect(body).toEqual(vectorBody('goaway-shutdown'))
    expect(decodeGoAway(body)).toEqual({ code: 3, reason: 'bye' })
  })

  it('bounds the reason and rejects a body shorter than its code', () => {
    expect(() => encodeGoAway({ code: 0, reason: 'x'.repeat(1025) })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => decodeGoAway(Uint8Array.of(0))).toThrow(expect.objectContaining({ name: 'InvalidControlFrameError' }))
    expect(() => decodeGoAway(new Uint8Array(2 + 1025))).toThrow(expect.objectContaining({ name: 'InvalidControlFrameError' }))
  })

  it('says which codes ask the client not to reconnect', () => {
    expect(isFinalGoAway(GoAwayCode.DO_NOT_RETRY)).toBe(true)
    for (const code of [GoAwayCode.NORMAL, GoAwayCode.SHUTTING_DOWN, GoAwayCode.TOO_MANY_PINGS, 99]) expect(isFinalGoAway(code)).toBe(false)
  })
})
