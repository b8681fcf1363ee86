import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { packBI, packInt32 } from './helpers/peers.js'
import { runProto, startProto, startServer } from './helpers/proto.js'

/** A raw client: writes `chunks` one by one (each its own write), then ends; resolves with everything it read. */
async function rawExchange (port: number, chunks: Buffer[], options: { end?: boolean } = {}): Promise<{ bytes: Buffer, error: Error | undefined }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  const got: Buffer[] = []
  socket.on('data', (c: Buffer) => got.push(c))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  for (const c of chunks) {
    socket.write(c)
    await new Promise(resolve => setImmediate(resolve))
  }
  if (options.end !== false) socket.end()
  return await new Promise((resolve) => {
    socket.on('error', (error) => { resolve({ bytes: Buffer.concat(got), error }) })
    socket.on('close', () => { resolve({ bytes: Buffer.concat(got), error: undefined }) })
  })
}

/** Every byte of `buf` as its own chunk: the worst a TCP stream can do to a frame boundary. */
const byteByByte = (buf: Buffer): Buffer[] => [...buf].map(b => Buffer.from([b]))

describe('proto listen', () => {
  it('--echo sends every frame back to a raw client byte for byte, and prints what it got', async () => {
    const { proc, port } = await startServer(['listen', '0', '--echo', '-f', 'structBI'])
    const frames = Buffer.concat([packBI(0x00, 'hello'), packBI(0x10, ''), packBI(0x00, Buffer.from([0xFF, 0x00]))])
    const { bytes } = await rawExchange(port, byteByByte(frames))
    expect(bytes).toEqual(frames)
    await proc.waitForStderr(/\[s1\] closed \(closed\)/)
    expect(proc.stdout()).toEqual(Buffer.concat([Buffer.from('hello\n\n'), Buffer.from([0xFF, 0x00, 0x0A])]))
    expect(proc.stderr()).toMatch(/^proto: listening on 127\.0\.0\.1:\d+ \(structBI, heartbeat 15s\/45s, echo\)$/m)
    expect(proc.stderr()).toMatch(/^proto: \[s1\] connected from 127\.0\.0\.1:\d+$/m)
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })

  it('labels each connection in --output json', async () => {
    const { proc, port } = await startServer(['listen', '0', '-f', 'int32', '-o', 'json'])
    await rawExchange(port, [packInt32('first')])
    await rawExchange(port, [packInt32('second')])
    await proc.waitForStderr(/\[s2\] closed/)
    expect(proc.stdout().toString()).toBe(
      '{"conn":"s1","type":0,"length":5,"text":"first","hex":"6669727374"}\n'
      + '{"conn":"s2","type":0,"length":6,"text":"second","hex":"7365636f6e64"}\n')
    proc.child.kill('SIGTERM')
    expect((await proc.exit()).code).toBe(143)
  })

  it('a client sending a bad frame is closed with a typed error; another client is served meanwhile', async () => {
    const { proc, port } = await startServer(['listen', '0', '--echo', '-f', 'int32', '--max-frame-length', '1KiB', '-o', 'none'])
    const good = net.connect({ port, host: '127.0.0.1' })
    await new Promise(resolve => good.once('connect', resolve))
    const bomb = await rawExchange(port, [Buffer.from([0x7F, 0xFF, 0xFF, 0xFF])], { end: false })
    expect(bomb.bytes.length).toBe(0)
    await proc.waitForStderr(/\[s2\] closed \(aborted\): FrameTooLongError/)
    const echoed = new Promise<Buffer>(resolve => good.once('data', resolve))
    good.write(packInt32('still here'))
    expect(await echoed).toEqual(packInt32('still here'))
    good.end()
    await proc.waitForStderr(/\[s1\] closed \(closed\)/)
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })

  // Without --echo nothing is written to the client, so its failure surfaces in the read and in our idle
  // sink at once: both must end that connection alone, never the process.
  it.each([
    {
      what: 'resets',
      closed: /\[s2\] closed \(reset\): ConnectionResetError/,
      misbehave: async (bad: net.Socket) => { bad.resetAndDestroy() }
    },
    {
      what: 'sends an oversize frame header',
      closed: /\[s2\] closed \(aborted\): FrameTooLongError: Frame body of 2147483647 bytes exceeds maxFrameLength 1024/,
      misbehave: async (bad: net.Socket) => { bad.write(Buffer.from([0x7F, 0xFF, 0xFF, 0xFF])); await new Promise(resolve => bad.once('close', resolve)) }
    }
  ])('without --echo, a client that $what is closed alone and another client is still served', async ({ closed, misbehave }) => {
    const { proc, port } = await startServer(['listen', '0', '-f', 'int32', '--max-frame-length', '1KiB'])
    const good = net.connect({ port, host: '127.0.0.1' })
    await new Promise(resolve => good.once('connect', resolve))
    await proc.waitForStderr(/\[s1\] connected/)
    const bad = net.connect({ port, host: '127.0.0.1' })
    bad.on('error', () => {})
    await new Promise(resolve => bad.once('connect', resolve))
    await proc.waitForStderr(/\[s2\] connected/)
    await misbehave(bad)
    await proc.waitForStderr(closed)
    good.write(packInt32('still here'))
    await proc.waitForStdout(out => out.toString() === 'still here\n')
    good.end()
    await proc.waitForStderr(/\[s1\] closed \(closed\)/)
    expect(proc.stderr()).not.toMatch(/internal error/)
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })

  it('without --echo, exits 0 when the reader of its stdout goes away (EPIPE), as `proto listen PORT | head -1`', async () => {
    const { proc, port } = await startServer(['listen', '0', '-f', 'int32'])
    const client = net.connect({ port, host: '127.0.0.1' })
    client.on('error', () => {})
    await new Promise(resolve => client.once('connect', resolve))
    client.write(packInt32('first'))
    await proc.waitForStdout(out => out.toString() === 'first\n')
    proc.child.stdout.destroy() // the reader goes away
    // frames keep coming until printing one fails on the closed pipe and the process ends
    const feeding = setInterval(() => { if (!client.destroyed) client.write(packInt32('more')) }, 20)
    try {
      const { code } = await proc.exit()
      expect(proc.stderr()).not.toMatch(/internal error/)
      expect(code).toBe(0)
    } finally {
      clearInterval(feeding)
      client.destroy()
    }
  })

  it('Ctrl-C closes open connections gracefully (FIN) and exits 130', async () => {
    const { proc, port } = await startServer(['listen', '0', '--echo', '-f', 'int32'])
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    await proc.waitForStderr(/\[s1\] connected/)
    const ended = new Promise<string>((resolve) => {
      client.on('end', () => { resolve('end') })
      client.on('error', (err) => { resolve(err.message) })
    })
    proc.child.kill('SIGINT')
    expect(await ended).toBe('end') // the server's FIN
    client.end()
    expect((await proc.exit()).code).toBe(130)
    expect(proc.stderr()).toMatch(/^proto: interrupted by SIGINT$/m)
  })

  it('--once exits 0 after its first connection ends', async () => {
    const { proc, port } = await startServer(['listen', '0', '--once', '-f', 'int32'])
    await rawExchange(port, [packInt32('only')])
    expect((await proc.exit()).code).toBe(0)
    expect(proc.stdout()).toEqual(Buffer.from('only\n'))
  })

  it('answers a client that pings it (proto format: PING 0x02 → PONG 0x03 with the same body)', async () => {
    const { proc, port } = await startServer(['listen', '0'])
    const ping = Buffer.from([0, 0, 0, 3, 0x02, 0xAA, 0xBB, 0xCC])
    const { bytes } = await rawExchange(port, [ping])
    expect(bytes).toEqual(Buffer.from([0, 0, 0, 3, 0x03, 0xAA, 0xBB, 0xCC]))
    proc.child.kill('SIGINT')
    await proc.exit()
  })

  it('connect and listen talk to each other', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', '-o', 'none'])
    const client = startProto(['connect', `127.0.0.1:${port}`, '--interval', '50ms', '--timeout', '1s'], { keepStdin: true })
    await client.waitForStderr(/rtt/)
    client.child.stdin.end('one\ntwo\n')
    expect((await client.exit()).code).toBe(0)
    expect(client.stdout()).toEqual(Buffer.from('one\ntwo\n'))
    server.child.kill('SIGINT')
    expect((await server.exit()).code).toBe(130)
  })

  it('listens and connects on a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-cli-unix-'))
    try {
      const path = join(dir, 'echo.sock')
      const { proc } = await startServer(['listen', `unix:${path}`, '--echo', '-o', 'none'], /listening on unix:(\S+) \(/)
      const r = await runProto(['connect', `unix:${path}`], { stdin: 'over a unix socket\n' })
      expect(r.code).toBe(0)
      expect(r.stdout).toEqual(Buffer.from('over a unix socket\n'))
      expect(r.stderr).toMatch(/^proto: connected to unix:\S+echo\.sock \(proto, heartbeat 15s\/45s\)$/m)
      proc.child.kill('SIGINT')
      expect((await proc.exit()).code).toBe(130)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
