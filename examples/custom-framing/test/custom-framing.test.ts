import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { codec, formats } from '@proto/codec'
import { connect } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { LegacyPeer } from '../src/index.js'
import { connectLegacy, DEFAULTS, LegacyType, parseExampleArgs, runExample, startLegacyPeer } from '../src/index.js'

let peer: LegacyPeer | undefined
afterEach(async () => { await peer?.close() })

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const local = (port: number): { host: string, port: number } => ({ host: '127.0.0.1', port })

/** Resolves once `cond()` holds, re-checked on every event of `on`. */
async function until (cond: () => boolean, on: (wake: () => void) => () => void): Promise<void> {
  if (cond()) return
  await new Promise<void>((resolve) => {
    const off = on(() => { if (cond()) { off(); resolve() } })
  })
}

describe("custom framing: @proto and a '!BI' peer", () => {
  it('puts the exact bytes of struct.pack("!BI", type, len) + body on the wire, DATA being type 0x00', async () => {
    peer = await startLegacyPeer({ pingEvery: 60_000 })
    const link = codec(await connect(local(peer.port)), { format: formats.structBI })
    const reply = (async () => { for await (const f of link.source) return f })()
    await link.sink([{ type: LegacyType.DATA, body: bytes('abc') }])
    const got = await reply
    expect(got?.type).toBe(LegacyType.DATA)
    expect(Buffer.from(got!.body).toString()).toBe('ABC')
    expect(Buffer.concat(peer.rawIn)).toEqual(Buffer.from([0x00, 0x00, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63]))
  })

  it('exchanges messages both ways and answers pings both ways', async () => {
    // its pings every 100 ms, ours after 30 ms without sending (a pong we send counts as sending)
    peer = await startLegacyPeer({ pingEvery: 100 })
    const link = await connectLegacy(local(peer.port), { interval: 30, timeout: 1_000 })
    const replies: string[] = []
    let rtts = 0
    let release = (): void => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    const wakers = new Set<() => void>()
    const wakeAll = (): void => { for (const w of wakers) w() }
    link.addEventListener('rtt', () => { rtts++; wakeAll() })
    const reading = (async () => {
      for await (const f of link.source) {
        expect(f.type).toBe(LegacyType.DATA) // its pings and pongs never reach the application
        replies.push(new TextDecoder().decode(f.body))
        wakeAll()
      }
    })()
    const writing = link.sink((async function * () {
      for (const t of ['one', 'two', 'three']) yield { type: LegacyType.DATA, body: bytes(t) }
      await released
    })())
    const poll = setInterval(wakeAll, 10) // the peer's pong counter is not an event
    try {
      await until(() => rtts >= 3 && peer!.pongsReceived >= 3 && replies.length === 3, (w) => { wakers.add(w); return () => wakers.delete(w) })
    } finally {
      clearInterval(poll)
    }
    release()
    await Promise.all([writing, reading])
    expect(replies).toEqual(['ONE', 'TWO', 'THREE'])
    expect(peer.received.filter(f => f.type === LegacyType.DATA).map(f => f.body)).toEqual(['one', 'two', 'three'])
    // our pings are its type 0x01 with an empty body, our pongs its 0x02 with an empty body
    expect(peer.received.filter(f => f.type === LegacyType.PING).length).toBeGreaterThanOrEqual(3)
    expect(peer.received.filter(f => f.type === LegacyType.PING || f.type === LegacyType.PONG).every(f => f.body === '')).toBe(true)
    expect(link.stats().pingsReceived).toBeGreaterThanOrEqual(3)
    expect(link.stats().pongsSent).toBe(link.stats().pingsReceived)
    expect(link.stats().rtt.samples).toBe(Math.min(rtts, 32))
  })

  it('declares a hung legacy peer dead with HeartbeatTimeoutError', async () => {
    peer = await startLegacyPeer({ pingEvery: 1_000 })
    const link = await connectLegacy(local(peer.port), { interval: 50, timeout: 300 })
    const timedOut = new Promise<Error>((resolve) => { link.addEventListener('timeout', ({ detail }) => { resolve(detail) }) })
    const reading = (async () => { for await (const _ of link.source) { /* drain */ } })()
    await until(() => link.stats().pongsReceived >= 1, (w) => { link.addEventListener('rtt', w); return () => { link.removeEventListener('rtt', w) } })
    peer.hang()
    const hungAt = performance.now()
    expect((await timedOut).name).toBe('HeartbeatTimeoutError')
    expect(performance.now() - hungAt).toBeLessThan(300 + 1_000) // the timeout plus generous slack
    await expect(reading).rejects.toMatchObject({ name: 'HeartbeatTimeoutError' })
  })
})

describe('the example program', () => {
  it('with no target, starts its own peer and talks to it', async () => {
    const lines: string[] = []
    const summary = await runExample({ ...DEFAULTS, target: undefined }, (l) => { lines.push(l) })
    expect(lines[0]).toMatch(/^legacy '!BI' peer on 127\.0\.0\.1:\d+ \(pings every 400 ms\)$/)
    expect(lines.filter(l => l.startsWith('→') || l.startsWith('←'))).toEqual([
      '→ 0x00  "hello"', '→ 0x00  "from"', '→ 0x00  "@proto"', '← 0x00  "HELLO"', '← 0x00  "FROM"', '← 0x00  "@PROTO"'
    ])
    expect(summary.replies).toEqual([{ type: 0, text: 'HELLO' }, { type: 0, text: 'FROM' }, { type: 0, text: '@PROTO' }])
    expect(summary.rtts.length).toBeGreaterThanOrEqual(1)
    expect(summary.closedByPeer).toBe(true)
    expect(lines.at(-1)).toMatch(/^our pings: \d+, its pongs: \d+; its pings: \d+, our pongs: \d+$/)
  })

  it('reads its target from arguments first, then the environment', () => {
    const env = { BI_HOST: 'device.local', BI_PORT: '9000' }
    expect(parseExampleArgs([], {})).toMatchObject({ help: false, options: { target: undefined } })
    expect(parseExampleArgs([], env)).toMatchObject({ options: { target: { host: 'device.local', port: 9000 } } })
    expect(parseExampleArgs(['10.0.0.2:7000'], env)).toMatchObject({ options: { target: { host: '10.0.0.2', port: 7000 } } })
    expect(parseExampleArgs(['--port', '7001'], env)).toMatchObject({ options: { target: { host: '127.0.0.1', port: 7001 } } })
    expect(parseExampleArgs(['--help'], {})).toEqual({ help: true })
    expect(() => parseExampleArgs(['--host', 'x'], {})).toThrow('--host/--port: a host needs a port')
    expect(() => parseExampleArgs([], { BI_PORT: '99999' })).toThrow("expected $BI_PORT to be a whole number from 1 to 65535, but got '99999'")
    expect(() => parseExampleArgs(['--data-type', '1'], {})).toThrow(/--data-type to differ/)
  })
})

/**
 * A '!BI' server written separately (raw node:net, knowing nothing of @proto or of the example): it
 * answers DATA with the bytes reversed, pings every 500 ms, answers pings, and closes when the client does.
 */
async function startReversingServer (): Promise<{ port: number, frames: string[], close: () => Promise<void> }> {
  const frames: string[] = []
  const sockets = new Set<net.Socket>()
  const pack = (type: number, body = Buffer.alloc(0)): Buffer => {
    const header = Buffer.alloc(5)
    header.writeUInt8(type, 0)
    header.writeUInt32BE(body.length, 1)
    return Buffer.concat([header, body])
  }
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    const ping = setInterval(() => { s.write(pack(0x01)) }, 500)
    s.on('close', () => { clearInterval(ping) })
    let pending = Buffer.alloc(0)
    s.on('data', (c: Buffer) => {
      pending = Buffer.concat([pending, c])
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const type = pending[0]!
        const body = Buffer.from(pending.subarray(5, 5 + pending.readUInt32BE(1)))
        pending = pending.subarray(5 + body.length)
        frames.push(`${type}:${body.toString('hex')}`)
        if (type === 0x00) s.write(pack(0x00, Buffer.from(body.reverse())))
        else if (type === 0x01) s.write(pack(0x02))
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

const MAIN = fileURLToPath(new URL('../dist/src/main.js', import.meta.url))

async function runMain (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, BI_HOST: '', BI_PORT: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

describe("the example program pointed at a separately started '!BI' server", () => {
  it.each<[string, string[], Record<string, string>]>([
    ['HOST:PORT', ['127.0.0.1:PORT'], {}],
    ['--host and --port', ['--host', '127.0.0.1', '--port', 'PORT'], {}],
    ['$BI_HOST and $BI_PORT', [], { BI_HOST: '127.0.0.1', BI_PORT: 'PORT' }]
  ])('via %s', async (_how, args, env) => {
    const server = await startReversingServer()
    try {
      const port = String(server.port)
      const r = await runMain(['--message', 'abc', '--message', 'xyz', ...args.map(a => a.replace('PORT', port))], Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('PORT', port)])))
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines[0]).toBe(`talking to the '!BI' server at 127.0.0.1:${port}`)
      expect(lines.filter(l => l.startsWith('→') || l.startsWith('←'))).toEqual(['→ 0x00  "abc"', '→ 0x00  "xyz"', '← 0x00  "cba"', '← 0x00  "zyx"'])
      expect(lines).toContainEqual(expect.stringMatching(/^our ping 0x01 answered by its pong 0x02 in [\d.]+ ms$/))
      expect(lines.at(-1)).toMatch(/^our pings: [1-9]\d*, its pongs: [1-9]\d*; its pings: \d+, our pongs: \d+$/)
      // it received the two DATA frames, and nothing but DATA, pings and pongs, all with empty bodies
      expect(server.frames.filter(f => f.startsWith('0:'))).toEqual(['0:616263', '0:78797a'])
      expect(server.frames.filter(f => !f.startsWith('0:')).every(f => f === '1:' || f === '2:')).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('--help exits 0; a bad argument exits 2; a refused connection exits 1', async () => {
    const help = await runMain(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: node examples\/custom-framing\/dist\/src\/main\.js \[HOST:PORT\] \[options\]/)
    const bad = await runMain(['--port', 'seven'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^expected --port to be a whole number from 1 to 65535, but got 'seven'/)
    const refused = await runMain(['127.0.0.1:9'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^custom-framing: ConnectionRefusedError: /)
  })
})
