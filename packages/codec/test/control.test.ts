import * as shared from '@proto/interface'
import { describe, expect, it } from 'vitest'
import { ADAPTIVE_FLAG, decodeGoAway, decodeHello, encodeGoAway, encodeHello, GoAwayCode, InvalidParametersError, isFinalGoAway, ProtocolVersionError } from '../src/index.js'
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

  it('encodes the documented extension: minPingInterval alone, and the adaptive interval with its flag', () => {
    const guard = encodeHello({ interval: 15_000, timeout: 45_000, minPingInterval: 5_000 })
    expect(guard).toEqual(vectorBody('hello-min-ping'))
    expect(decodeHello(guard)).toEqual({ version: 1, flags: 0, interval: 15_000, timeout: 45_000, minPingInterval: 5_000 })
    const adaptive = encodeHello({ interval: 5_000, timeout: 55_000, adaptive: { interval: 15_000, max: 45_000, grace: 10_000 } })
    expect(adaptive).toEqual(vectorBody('hello-adaptive'))
    expect(decodeHello(adaptive)).toEqual({
      version: 1, flags: ADAPTIVE_FLAG, interval: 5_000, timeout: 55_000, minPingInterval: 0, adaptive: { interval: 15_000, max: 45_000, grace: 10_000 }
    })
    // other flags are kept beside it
    expect(decodeHello(encodeHello({ flags: 0x01, interval: 1, timeout: 2, adaptive: { interval: 1, max: 1, grace: 1 } })).flags).toBe(0x01 | ADAPTIVE_FLAG)
  })

  it('sends 14 bytes when there is nothing to extend, and reads a flagged HELLO too short for the extension as a fixed one', () => {
    expect(encodeHello({ interval: 1, timeout: 2, minPingInterval: 0 })).toHaveLength(14)
    const flaggedShort = encodeHello({ interval: 1, timeout: 2, minPingInterval: 3 })
    flaggedShort[5] = ADAPTIVE_FLAG
    expect(decodeHello(flaggedShort)).toEqual({ version: 1, flags: ADAPTIVE_FLAG, interval: 1, timeout: 2, minPingInterval: 3 })
  })

  it('refuses the ADAPTIVE flag without the extension it announces', () => {
    expect(() => encodeHello({ flags: ADAPTIVE_FLAG, interval: 1, timeout: 2 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => encodeHello({ interval: 1, timeout: 2, adaptive: { interval: -1, max: 1, grace: 1 } })).toThrow('expected HELLO adaptive.interval to be a whole number from 0 to 4294967295, but got -1')
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
