import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RawPeer } from './helpers/peers.js'
import { packBI, packInt32, packProto, packU16le, packVarint, startInt32Peer, startProtoPeer, startStructBIPeer, startU16lePeer, startVarintPeer } from './helpers/peers.js'
import { runProto, startProto } from './helpers/proto.js'

let peer: RawPeer | undefined
afterEach(async () => { await peer?.close() })

const wire = (p: RawPeer): Buffer => Buffer.concat(p.rawIn)

describe("proto connect against a hand-written '!BI' peer", () => {
  it('sends a frame per line and prints the replies, byte for byte, in every output mode', async () => {
    peer = await startStructBIPeer()
    const target = `127.0.0.1:${peer.port}`
    const text = await runProto(['connect', target, '--format', 'structBI'], { stdin: 'hello\nworld\n' })
    expect(text.code).toBe(0)
    expect(text.stdout).toEqual(Buffer.from('HELLO\nWORLD\n'))
    expect(text.stderr).toMatch(/^proto: connected to 127\.0\.0\.1:\d+ \(structBI, heartbeat 15s\/45s\)$/m)
    expect(wire(peer)).toEqual(Buffer.concat([packBI(0x00, 'hello'), packBI(0x00, 'world')]))

    const hex = await runProto(['connect', target, '-f', 'structBI', '--output', 'hex'], { stdin: 'hi\n' })
    expect(hex.code).toBe(0)
    expect(hex.stdout.toString()).toBe(
      'frame 1: type 0x00, 2 bytes\n'
      + '00000000  48 49                                             |HI|\n')

    const json = await runProto(['connect', target, '-f', 'structBI', '-o', 'json'], { stdin: 'ok\n' })
    expect(json.stdout.toString()).toBe('{"type":0,"length":2,"text":"OK","hex":"4f4b"}\n')

    const raw = await runProto(['connect', target, '-f', 'structBI', '-o', 'raw'], { stdin: 'a\nb\n' })
    expect(raw.stdout).toEqual(Buffer.from('AB'))
  })

  it('sends hex lines with their own frame types, and --type for text lines', async () => {
    peer = await startStructBIPeer()
    const target = `127.0.0.1:${peer.port}`
    const hex = await runProto(['connect', target, '-f', 'structBI', '-i', 'hex', '-o', 'hex'], { stdin: '# a comment\n10:61 62 63\n\n0x10:-\n' })
    expect(hex.code).toBe(0)
    expect(hex.stdout.toString()).toBe(
      'frame 1: type 0x11, 3 bytes\n00000000  41 42 43                                          |ABC|\n'
      + 'frame 2: type 0x11, 0 bytes\n')
    expect(wire(peer)).toEqual(Buffer.concat([packBI(0x10, 'abc'), packBI(0x10)]))

    peer.rawIn.length = 0
    const typed = await runProto(['connect', target, '-f', 'structBI', '--type', '0x10', '-o', 'json'], { stdin: 'x\n' })
    expect(typed.stdout.toString()).toBe('{"type":17,"length":1,"text":"X","hex":"58"}\n')
    expect(wire(peer)).toEqual(packBI(0x10, 'x'))
  })

  it('keeps the link alive with its ping 0x01 / pong 0x02, empty bodies, both ways, and reports the RTT on stderr', async () => {
    peer = await startStructBIPeer({ pingEvery: 40 })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--interval', '30ms', '--timeout', '2s'], { keepStdin: true })
    await p.waitForStderr(/(?:rtt [\d.]+ ms\n[^]*){3}/)
    const bi = peer as Awaited<ReturnType<typeof startStructBIPeer>>
    while (bi.pongsReceived() < 2) await new Promise(resolve => setTimeout(resolve, 10))
    p.child.stdin.end('bye\n')
    const exit = await p.exit()
    expect(exit.code).toBe(0)
    expect(p.stdout()).toEqual(Buffer.from('BYE\n')) // its pings never reach stdout
    // everything we sent: pings 01 00000000 and pongs 02 00000000, then the data frame
    const bytes = wire(peer)
    const frames: string[] = []
    for (let at = 0; at < bytes.length;) {
      const length = bytes.readUInt32BE(at + 1)
      frames.push(bytes.subarray(at, at + 5 + length).toString('hex'))
      at += 5 + length
    }
    // the data frame once; keep-alive frames may follow it until our FIN (a ping of the peer's that arrives
    // meanwhile is still answered)
    const bye = packBI(0x00, 'bye').toString('hex')
    expect(frames.filter(f => f === bye)).toHaveLength(1)
    expect(new Set(frames.filter(f => f !== bye))).toEqual(new Set(['0100000000', '0200000000']))
    expect(frames.filter(f => f === '0100000000').length).toBeGreaterThanOrEqual(3)
  })

  it('declares a hung peer dead: exit 1 with HeartbeatTimeoutError', async () => {
    peer = await startStructBIPeer()
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--interval', '50ms', '--timeout', '400ms'], { keepStdin: true })
    await p.waitForStderr(/rtt/)
    peer.hang()
    const exit = await p.exit()
    expect(exit.code).toBe(1)
    expect(p.stderr()).toMatch(/^proto: error: HeartbeatTimeoutError: expected a frame from the peer at least every 400 ms, but none came for \d+ ms: the peer is dead or unreachable/m)
    expect(p.stderr()).not.toMatch(/\n\s+at /) // no stack trace without --debug
  })

  it('--count exits after that many frames, although stdin is still open', async () => {
    peer = await startStructBIPeer()
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--count', '2'], { stdin: 'a\nb\nc\n', keepStdin: true })
    expect((await p.exit()).code).toBe(0)
    expect(p.stdout()).toEqual(Buffer.from('A\nB\n'))
  })

  it('--linger gives up on a peer that never finishes', async () => {
    peer = await startStructBIPeer({ endOnEnd: false })
    const started = performance.now()
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--linger', '300ms'], { stdin: 'x\n' })
    expect(r.code).toBe(0)
    expect(r.stdout).toEqual(Buffer.from('X\n'))
    expect(r.stderr).toMatch(/the peer did not finish within --linger 300 ms/)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('stops on Ctrl-C with 130, after half-closing the connection', async () => {
    peer = await startStructBIPeer()
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI'], { keepStdin: true })
    await p.waitForStderr(/connected/)
    p.child.stdin.write('one\n')
    await p.waitForStdout(out => out.toString() === 'ONE\n')
    p.child.kill('SIGINT')
    const exit = await p.exit()
    expect(exit.code).toBe(130)
    expect(p.stderr()).toMatch(/^proto: interrupted by SIGINT$/m)
    expect(peer.ended).toBe(1) // our FIN, not a reset
  })
})

describe('proto connect against peers of other framings', () => {
  it('int32: [u32be length][body]', async () => {
    peer = await startInt32Peer()
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '--format', 'int32'], { stdin: 'ping\n\nlast' })
    expect(r.code).toBe(0)
    expect(r.stdout).toEqual(Buffer.from('re:ping\nre:\nre:last\n'))
    expect(r.stderr).toMatch(/\(int32, no heartbeat \(no type byte\)\)/)
    expect(wire(peer)).toEqual(Buffer.concat([packInt32('ping'), packInt32(''), packInt32('last')]))
  })

  it('lengthPrefixed: [varint length][body], with a body past 127 bytes', async () => {
    peer = await startVarintPeer()
    const long = 'x'.repeat(300)
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'lengthPrefixed'], { stdin: `short\n${long}\n` })
    expect(r.code).toBe(0)
    expect(r.stdout).toEqual(Buffer.from(`short\n${long}\n`))
    expect(wire(peer)).toEqual(Buffer.concat([packVarint('short'), packVarint(long)]))
  })

  it('a JSON layout: [u16le length][body]', async () => {
    peer = await startU16lePeer()
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', '{"length":2,"endian":"little","type":"none"}', '-i', 'hex', '-o', 'hex'], { stdin: '00 01 02 ff\n' })
    expect(r.code).toBe(0)
    expect(r.stdout.toString()).toBe('frame 1: 4 bytes\n00000000  00 01 02 ff                                       |....|\n')
    expect(wire(peer)).toEqual(packU16le(Buffer.from([0, 1, 2, 0xFF])))
  })

  it('proto: [u32be length][u8 type][body], pinging with 8-byte sequence numbers; a GOAWAY goes to stderr', async () => {
    const goAway = packProto(0x04, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('restart')]))
    peer = await startProtoPeer({ sendFirst: goAway })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '--interval', '30ms', '--timeout', '2s', '-i', 'json'], { keepStdin: true })
    await p.waitForStderr(/rtt[^]*rtt/)
    p.child.stdin.end('{"type":64,"text":"app"}\n') // the peer echoes DATA only: no answer to this one
    const exit = await p.exit()
    expect(exit.code).toBe(0)
    expect(p.stdout().toString()).toBe('')
    expect(p.stderr()).toMatch(/^proto: the peer is going away: GOAWAY 3 SHUTTING_DOWN \(restart\)$/m)
    const bytes = wire(peer)
    const pings: Buffer[] = []
    let at = 0
    while (at < bytes.length) {
      const length = bytes.readUInt32BE(at)
      const type = bytes[at + 4]
      if (type === 0x02) pings.push(bytes.subarray(at + 5, at + 5 + length))
      else expect(bytes.subarray(at, at + 5 + length)).toEqual(packProto(0x40, 'app'))
      at += 5 + length
    }
    expect(pings.length).toBeGreaterThanOrEqual(2)
    expect(pings.map(b => b.length)).toEqual(pings.map(() => 8))
    expect(pings.map(b => Number(b.readBigUInt64BE()))).toEqual(pings.map((_, i) => pings.map(b => Number(b.readBigUInt64BE()))[0]! + i))
  })

  it('sends a file per frame with --file', async () => {
    peer = await startInt32Peer({ echo: true })
    const dir = mkdtempSync(join(tmpdir(), 'proto-cli-'))
    try {
      const a = Buffer.from([0, 1, 2, 3, 0x0A, 0xFF])
      writeFileSync(join(dir, 'a.bin'), a)
      writeFileSync(join(dir, 'b.bin'), 'second\n')
      const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '--file', join(dir, 'a.bin'), '--file', join(dir, 'b.bin'), '-o', 'raw'])
      expect(r.code).toBe(0)
      expect(r.stdout).toEqual(Buffer.concat([a, Buffer.from('second\n')]))
      expect(wire(peer)).toEqual(Buffer.concat([packInt32(a), packInt32('second\n')]))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('proto connect with bad input', () => {
  it('a line that is not hex: exit 3 after sending the frames before it', async () => {
    peer = await startInt32Peer({ echo: true })
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '-i', 'hex'], { stdin: '68 69\nzz\n6a\n' })
    expect(r.code).toBe(3)
    expect(r.stdout).toEqual(Buffer.from('hi\n'))
    expect(r.stderr).toMatch(/^proto: error: InputError: stdin line 2: expected hex digits \(optionally 'TYPE:' first, '-' for an empty body\), but got 'zz'$/m)
    expect(wire(peer)).toEqual(packInt32('hi'))
  })

  it('a line longer than --max-frame-length: exit 3', async () => {
    peer = await startInt32Peer({ echo: true })
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '--max-frame-length', '4'], { stdin: 'abcd\nabcde\n' })
    expect(r.code).toBe(3)
    expect(r.stdout).toEqual(Buffer.from('abcd\n'))
    expect(r.stderr).toMatch(/stdin line 2: .*longer than .*--max-frame-length/)
  })

  it("a line longer than the format's length field can say: exit 3, the line named, the lines before sent", async () => {
    peer = await startInt32Peer({ echo: true })
    const long = 'x'.repeat(300)
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', '{"length":1}', '--max-frame-length', '1KiB', '-o', 'none'], { stdin: `ab\n${long}\nafter\n` })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/stdin line 2: .*longer than .*the format's length field/)
    expect(wire(peer)).toEqual(Buffer.from([2, 0, 0x61, 0x62])) // [u8 length][u8 type 0][body]
  })

  it('a bad JSON line, and a type the format cannot carry: exit 3', async () => {
    peer = await startInt32Peer({ echo: true })
    const json = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '-i', 'json'], { stdin: '{"text":"a"}\n{nope\n' })
    expect(json.code).toBe(3)
    expect(json.stdout).toEqual(Buffer.from('a\n'))
    expect(json.stderr).toMatch(/stdin line 2: not valid JSON/)
    const typed = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '-i', 'hex'], { stdin: '40:00\n' })
    expect(typed.code).toBe(3)
    expect(typed.stderr).toMatch(/stdin line 1: frame type 64, but the format has no type byte/)
  })

  it('a missing --file: exit 3 before connecting', async () => {
    peer = await startInt32Peer()
    const r = await runProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '--file', '/nonexistent/frame.bin'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^proto: error: InputError: file '\/nonexistent\/frame\.bin': cannot be read: ENOENT/m)
    expect(peer.accepted).toBe(0)
  })
})
