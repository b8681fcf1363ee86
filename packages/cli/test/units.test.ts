import { getEventListeners } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { codec, formats } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { describe, expect, it, vi } from 'vitest'
import { parseListenAddress, parseTarget } from '../src/args/address.js'
import { parseFaults } from '../src/args/faults.js'
import { parseFormat } from '../src/args/format.js'
import { resolveHeartbeat } from '../src/args/heartbeat.js'
import { parseByteSet, parseDuration, parseSize } from '../src/args/values.js'
import { percentile } from '../src/commands/bench-result.js'
import { hexDump } from '../src/frames/hexdump.js'
import type { FrameInput } from '../src/frames/input.js'
import { openInput } from '../src/frames/input.js'
import { splitLines } from '../src/frames/lines.js'
import { frameJson } from '../src/frames/output.js'
import { ExitCode, main } from '../src/index.js'
import { emptyUntil, until, watchAbort } from '../src/iterables.js'

async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** A byte stream delivered in the given pieces. */
const chunks = (...parts: string[]): AsyncIterable<Uint8Array> => Readable.from(parts.map(p => Buffer.from(p)))

describe('flag values', () => {
  it.each<[string, number]>([['250', 250], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000], ['0', 0], ['10ms', 10]])('duration %s = %d ms', (text, ms) => {
    expect(parseDuration('--x', text)).toBe(ms)
  })
  it('duration: never only where allowed', () => {
    expect(parseDuration('--x', 'never', { infinity: true })).toBe(Infinity)
    expect(() => parseDuration('--x', 'never')).toThrow(/expected --x to be a duration/)
    expect(() => parseDuration('--x', '-5')).toThrow(/but got '-5'/)
    expect(() => parseDuration('--x', '30d')).toThrow(/but got '30d'/)
  })
  it.each<[string, number]>([['1460', 1460], ['64KiB', 65536], ['1kB', 1000], ['16MiB', 16_777_216], ['1.5KiB', 1536]])('size %s = %d bytes', (text, bytes) => {
    expect(parseSize('--x', text)).toBe(bytes)
  })
  it('size: fractions of a byte and unknown units are refused', () => {
    expect(() => parseSize('--x', '1.5')).toThrow(/whole number of bytes/)
    expect(() => parseSize('--x', '1MB/s')).toThrow(/but got '1MB\/s'/)
  })
  it('byte sets', () => {
    expect(parseByteSet('--t', '0x00,0x40-0x43,7')).toEqual([0, 7, 0x40, 0x41, 0x42, 0x43])
    expect(() => parseByteSet('--t', '1-2-3')).toThrow(UsageErrorLike)
  })
})
const UsageErrorLike = /expected --t/

describe('addresses', () => {
  it('targets', () => {
    expect(parseTarget('T', '127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 })
    expect(parseTarget('T', '[::1]:7000')).toEqual({ host: '::1', port: 7000 })
    expect(parseTarget('T', 'device.local:9')).toEqual({ host: 'device.local', port: 9 })
    expect(parseTarget('T', 'unix:/tmp/s.sock')).toEqual({ path: '/tmp/s.sock' })
    expect(() => parseTarget('T', '127.0.0.1:0')).toThrow(/a port from 1 to 65535/)
    expect(() => parseTarget('T', '::1:7000')).toThrow(/\[IPv6\]:PORT/)
  })
  it('listen addresses: a bare port is loopback, 0 is a free port', () => {
    expect(parseListenAddress('L', '7000')).toEqual({ host: '127.0.0.1', port: 7000 })
    expect(parseListenAddress('L', '0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 })
  })
})

describe('formats', () => {
  it('presets and layouts', () => {
    expect(parseFormat('structBI', undefined)).toMatchObject({ name: 'structBI', format: formats.structBI, hasType: true, isProto: false })
    expect(parseFormat('int32', undefined)).toMatchObject({ hasType: false })
    expect(parseFormat('{"length":4,"type":"after"}', undefined)).toMatchObject({ isProto: true, hasType: true })
    expect(parseFormat('{"length":"varint","type":"none"}', undefined)).toMatchObject({ name: '{"length":"varint","type":"none"}', hasType: false })
  })
  it('a varint cannot count itself: the codec says so', () => {
    expect(() => parseFormat('{"length":"varint","lengthCounts":"frame"}', undefined)).toThrow(/invalid --format .*varint cannot count itself/)
  })
})

describe('heartbeat flags', () => {
  it('structBI gets the classic keep-alive; int32 none; proto the SDK defaults', () => {
    expect(resolveHeartbeat({}, parseFormat('structBI', undefined)).init).toEqual({
      pingType: 1, pongType: 2, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null, interval: 15_000, timeout: 45_000
    })
    expect(resolveHeartbeat({}, parseFormat('int32', undefined))).toEqual({ init: undefined, summary: 'no heartbeat (no type byte)' })
    expect(resolveHeartbeat({ 'ping-body': 'hex:0102', 'pong-body': 'empty', hello: true }, parseFormat('proto', undefined)).init).toEqual({
      // with HELLO, pings that cross are settled; the CLI never yields, so it goes on measuring its own RTT
      interval: 15_000, timeout: 45_000, pingBody: Uint8Array.from([1, 2]), pongBody: new Uint8Array(0), hello: true, crossing: 'keep'
    })
  })
  const appTypes = Array.from({ length: 0xC0 }, (_, i) => 0x40 + i)
  it('--strict allows the format\'s own data types; structBI pings must be empty, proto\'s follow heartbeat\'s default', () => {
    expect(resolveHeartbeat({ strict: true }, parseFormat('structBI', undefined))).toEqual({
      init: { pingType: 1, pongType: 2, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null, interval: 15_000, timeout: 45_000, allowedTypes: [0], maxPingBody: 0 },
      summary: 'heartbeat 15s/45s, strict'
    })
    expect(resolveHeartbeat({ strict: true }, parseFormat('proto', undefined)).init).toEqual({ interval: 15_000, timeout: 45_000, allowedTypes: [0, ...appTypes] })
    expect(resolveHeartbeat({ strict: true }, parseFormat('{"length":2}', undefined)).init).toEqual({ interval: 15_000, timeout: 45_000, allowedTypes: [0, ...appTypes] })
    expect(resolveHeartbeat({ 'allow-types': '0x05-0x06' }, parseFormat('structBI', undefined)).init).toMatchObject({ allowedTypes: [5, 6], maxPingBody: 0 })
    expect(resolveHeartbeat({ strict: true, 'ping-body': 'hex:0102', 'pong-body': 'hex:03' }, parseFormat('structBI', undefined)).init).toMatchObject({ maxPingBody: 2 })
    expect(resolveHeartbeat({ strict: true, 'max-ping-body': '8' }, parseFormat('structBI', undefined)).init).toMatchObject({ maxPingBody: 8 })
    expect(resolveHeartbeat({ 'max-ping-body': '16' }, parseFormat('proto', undefined)).init).toEqual({ interval: 15_000, timeout: 45_000, maxPingBody: 16 })
    expect(resolveHeartbeat({}, parseFormat('structBI', undefined)).init).not.toHaveProperty('maxPingBody') // lenient without --strict
  })
  it('--keepalive empty: keep-alive mode, timeout off unless given; strict too on a format with a type byte', () => {
    expect(resolveHeartbeat({ keepalive: 'empty' }, parseFormat('int32', undefined))).toEqual({
      init: { mode: 'keepalive', interval: 15_000, timeout: 0 }, summary: 'empty-frame keep-alive 15s/off'
    })
    expect(resolveHeartbeat({ keepalive: 'empty', interval: '500ms', timeout: '3s' }, parseFormat('lengthPrefixed', undefined)).init).toEqual({ mode: 'keepalive', interval: 500, timeout: 3_000 })
    expect(resolveHeartbeat({ keepalive: 'empty', strict: true }, parseFormat('structBI', undefined))).toEqual({
      init: { mode: 'keepalive', interval: 15_000, timeout: 0, allowedTypes: [0] }, summary: 'empty-frame keep-alive 15s/off, strict'
    })
    expect(resolveHeartbeat({ keepalive: 'ping' }, parseFormat('proto', undefined)).init).toEqual({ interval: 15_000, timeout: 45_000 })
  })
  it('--max-peer-timeout (with --hello) becomes maxPeerTimeout, in any unit; never is Infinity; absent, heartbeat\'s default stands', () => {
    const proto = parseFormat('proto', undefined)
    expect(resolveHeartbeat({ hello: true, 'max-peer-timeout': '2m' }, proto)).toEqual({
      init: { interval: 15_000, timeout: 45_000, hello: true, crossing: 'keep', maxPeerTimeout: 120_000 }, summary: 'heartbeat 15s/45s'
    })
    for (const [text, ms] of [['90000', 90_000], ['90s', 90_000], ['1.5m', 90_000], ['1h', 3_600_000], ['45s', 45_000], ['never', Infinity], ['Infinity', Infinity], ['inf', Infinity]] as const) {
      expect(resolveHeartbeat({ hello: true, 'max-peer-timeout': text }, proto).init, text).toMatchObject({ maxPeerTimeout: ms })
    }
    // at least our own timeout, which may be short; with --timeout 0 any bound is
    expect(resolveHeartbeat({ hello: true, interval: '500ms', timeout: '2s', 'max-peer-timeout': '2000ms' }, proto).init).toMatchObject({ timeout: 2_000, maxPeerTimeout: 2_000 })
    expect(resolveHeartbeat({ hello: true, timeout: '0', 'max-peer-timeout': '1ms' }, proto).init).toMatchObject({ timeout: 0, maxPeerTimeout: 1 })
    expect(resolveHeartbeat({ hello: true, 'max-peer-timeout': '1m' }, parseFormat('structBI', undefined)).init).toMatchObject({ pingType: 1, hello: true, maxPeerTimeout: 60_000 })
    expect(resolveHeartbeat({ hello: true }, proto).init).not.toHaveProperty('maxPeerTimeout')
  })
  it('--max-peer-timeout: bad values and combinations are usage errors', () => {
    const proto = parseFormat('proto', undefined)
    const usage = (values: Record<string, string | boolean>, format = proto): unknown => {
      try {
        resolveHeartbeat(values, format)
      } catch (err) {
        return err
      }
      return undefined
    }
    for (const [values, message] of [
      [{ 'max-peer-timeout': '5m' }, /^--max-peer-timeout bounds what the peer's HELLO asks for: add --hello$/],
      [{ hello: true, 'max-peer-timeout': '44s' }, /^expected --max-peer-timeout \(44000 ms\) to be at least --timeout \(45000 ms\)/],
      [{ hello: true, 'max-peer-timeout': '0' }, /^expected --max-peer-timeout to be a duration from 1 ms to 2147483647 ms, but got '0'$/],
      [{ hello: true, 'max-peer-timeout': '25d' }, /^expected --max-peer-timeout to be a duration such as 500ms, 5s or 1m, or 'never', but got '25d'$/],
      [{ hello: true, 'max-peer-timeout': '600h' }, /^expected --max-peer-timeout to be a duration from 1 ms to 2147483647 ms, but got '600h'$/],
      [{ keepalive: 'empty', 'max-peer-timeout': '5m' }, /^--keepalive empty sends empty frames, not pings: leave out --max-peer-timeout$/],
      [{ 'no-heartbeat': true, 'max-peer-timeout': '5m' }, /^--no-heartbeat cannot go with --max-peer-timeout$/]
    ] as const) {
      expect(usage(values), JSON.stringify(values)).toMatchObject({ name: 'UsageError', message: expect.stringMatching(message) })
    }
    expect(usage({ 'max-peer-timeout': '5m' }, parseFormat('int32', undefined))).toMatchObject({ name: 'UsageError', message: expect.stringMatching(/leave out --max-peer-timeout, or use --keepalive empty$/) })
  })
  it('every choice is one heartbeat accepts', () => {
    const idle: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: async () => await new Promise<IteratorResult<Uint8Array>>(() => {}) }) }
    for (const [values, format] of [
      [{ strict: true }, 'structBI'], [{ strict: true }, 'proto'], [{ 'allow-types': '0x05-0x06' }, 'structBI'],
      [{ keepalive: 'empty' }, 'int32'], [{ keepalive: 'empty', strict: true }, 'structBI'], [{ 'max-ping-body': '8', strict: true }, 'proto'],
      [{ hello: true, 'max-peer-timeout': '45s' }, 'proto'], [{ hello: true, 'max-peer-timeout': 'never' }, 'proto'],
      [{ hello: true, interval: '500ms', timeout: '2s', 'max-peer-timeout': '2s' }, 'proto'], [{ hello: true, timeout: '0', 'max-peer-timeout': '1ms' }, 'proto']
    ] as const) {
      const chosen = parseFormat(format, undefined)
      let link: HeartbeatDuplex | undefined
      // the heartbeat validates its options when it is made: a choice it refuses throws InvalidParametersError here
      expect(() => { link = heartbeat(codec({ source: idle, sink: async () => {} }, { format: chosen.format }), resolveHeartbeat(values, chosen).init) }, `${format} ${JSON.stringify(values)}`).not.toThrow()
      link?.abort(new Error('done'))
    }
  })
})

describe('fault plans', () => {
  it('key=value pairs and JSON, merged in order', () => {
    expect(parseFaults(['cut-every=1s-3s,cut-mode=reset', 'fragment=1-64,delay=20ms,throttle=100kB/s', '{"maxFaults":3}'])).toEqual({
      cutEvery: [1000, 3000], cutMode: 'reset', fragment: { min: 1, max: 64 }, delayMs: 20, throttle: 100_000, maxFaults: 3
    })
    expect(() => parseFaults(['blackhole-every=1s'])).toThrow(/go together/)
    expect(() => parseFaults(['delay'])).toThrow(/expected a value for fault 'delay'/)
  })
})

describe('input', () => {
  const stop = new AbortController().signal
  it('splits lines across chunk boundaries, keeps an unterminated last line, bounds a line', async () => {
    const lines = await collect(splitLines(chunks('ab', 'c\nd', 'e\n\nf'), 10, stop))
    expect(lines.map(l => [l.number, Buffer.from(l.bytes).toString()])).toEqual([[1, 'abc'], [2, 'de'], [3, ''], [4, 'f']])
    await expect(collect(splitLines(chunks('12345', '678901'), 10, stop))).rejects.toMatchObject({ name: 'InputError', where: 'stdin line 1' })
  })
  it('ends quietly when stopped while a read is pending', async () => {
    const controller = new AbortController()
    const never: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: async () => await new Promise<IteratorResult<Uint8Array>>(() => {}) }) }
    const reading = collect(splitLines(never, 10, controller.signal))
    controller.abort()
    expect(await reading).toEqual([])
  })
  const open = (mode: 'text' | 'hex' | 'json', text: string, hasType = true): FrameInput =>
    openInput({ mode, type: 0, hasType, maxFrameLength: 8, files: [], stdin: chunks(text) })
  it('text strips a CR; hex takes TYPE: and -; json takes hex, base64 or text', async () => {
    expect(await collect(open('text', 'a\r\nb\n').frames)).toEqual([{ type: 0, body: Uint8Array.from([0x61]) }, { type: 0, body: Uint8Array.from([0x62]) }])
    const hex = await collect(open('hex', '0102\n40:ff\n0x41:-\n#x\n').frames)
    expect(hex.map(f => [f.type, Buffer.from(f.body).toString('hex')])).toEqual([[0, '0102'], [0x40, 'ff'], [0x41, '']])
    const json = await collect(open('json', '{"hex":"00"}\n{"type":5,"base64":"AQI="}\n{"text":"é"}\n{}\n').frames)
    expect(json.map(f => [f.type, Buffer.from(f.body).toString('hex')])).toEqual([[0, '00'], [5, '0102'], [0, 'c3a9'], [0, '']])
  })
  it('bad input ends the frames and is kept as the error, with the line', async () => {
    const input = open('hex', '01\n0g\n02\n')
    expect((await collect(input.frames)).length).toBe(1)
    expect(input.error).toMatchObject({ name: 'InputError', where: 'stdin line 2' })
    const long = open('text', '123456789\n')
    expect(await collect(long.frames)).toEqual([])
    expect(long.error?.message).toMatch(/^stdin line 1: (9 bytes, longer|more than)/)
  })
})

describe('output', () => {
  it('JSON lines carry text only for UTF-8 bodies', () => {
    expect(frameJson({ type: 1, body: Buffer.from('hé') }, 's1')).toBe('{"conn":"s1","type":1,"length":3,"text":"hé","hex":"68c3a9"}')
    expect(frameJson({ type: 0, body: Uint8Array.from([0xFF]) })).toBe('{"type":0,"length":1,"hex":"ff"}')
  })
  it('hex dumps as hexdump -C does', () => {
    expect(hexDump(Buffer.from('0123456789abcdefXY'))).toBe(
      '00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n'
      + '00000010  58 59                                             |XY|\n')
    expect(hexDump(new Uint8Array(0))).toBe('')
  })
  it('percentiles are nearest-rank', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1)
    expect([percentile(s, 0.5), percentile(s, 0.9), percentile(s, 0.99), percentile(s, 1)]).toEqual([50, 90, 99, 100])
  })
})

describe('main() in-process', () => {
  const sink = (): Writable & { text: () => string } => {
    let text = ''
    const w = new Writable({ write (chunk: Buffer, _enc, cb) { text += chunk.toString(); cb() } })
    return Object.assign(w, { text: () => text })
  }
  it('returns exit codes instead of exiting, and writes only to the streams it is given', async () => {
    const stdout = sink()
    const stderr = sink()
    expect(await main(['connect', '--nope'], { stdin: chunks(), stdout, stderr })).toBe(ExitCode.USAGE)
    expect(stderr.text()).toBe("proto: unknown option '--nope'\nRun 'proto connect --help' for usage.\n")
    expect(await main(['--version'], { stdin: chunks(), stdout, stderr })).toBe(ExitCode.OK)
    expect(stdout.text()).toMatch(/^\d+\.\d+\.\d+\n$/)
  })
})

describe('iterables a server uses per connection', () => {
  it('until() ends a pending read when stopped, keeps nextBatch, and the watch leaves no listener behind', async () => {
    const closing = new AbortController()
    const warn = vi.spyOn(process, 'emitWarning')
    const watches = Array.from({ length: 20 }, () => watchAbort(closing.signal))
    expect(getEventListeners(closing.signal, 'abort').length).toBe(20)
    // a server with more than ten clients: Node's "possible leak" warning would reach the user's terminal
    expect(warn.mock.calls.map(([w]) => (w as Error).name)).not.toContain('MaxListenersExceededWarning')
    warn.mockRestore()
    for (const w of watches) w.dispose()
    expect(getEventListeners(closing.signal, 'abort').length).toBe(0) // connections that ended leave nothing on the server's signal

    const watch = watchAbort(closing.signal)
    let next = 0
    const batched = {
      [Symbol.asyncIterator]: () => batched,
      next: async () => next++ === 0 ? { done: false, value: 1 } : await new Promise<IteratorResult<number>>(() => {}),
      nextBatch: async () => [1, 2]
    }
    const it = until(batched, watch.promise)[Symbol.asyncIterator]() as AsyncIterator<number> & { nextBatch?: () => Promise<number[] | undefined> }
    expect(await it.nextBatch?.()).toEqual([1, 2])
    expect(await it.next()).toEqual({ done: false, value: 1 })
    const pending = it.next()
    closing.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(await it.nextBatch?.()).toBeUndefined()
    expect(await collect(emptyUntil(watch.promise))).toEqual([])
    watch.dispose()
  })
})
