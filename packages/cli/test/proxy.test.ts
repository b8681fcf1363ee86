import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runProto, startServer } from './helpers/proto.js'

/** A plain TCP echo server that counts the reads it sees (how the proxy sliced the stream). */
async function startEcho (): Promise<{ port: number, reads: () => number, close: () => Promise<void> }> {
  let reads = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('data', (c) => { reads++; s.write(c) })
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    reads: () => reads,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

let echo: Awaited<ReturnType<typeof startEcho>> | undefined
afterEach(async () => { await echo?.close() })

const PROXY_LINE = /proxy on 127\.0\.0\.1:(\d+) →/

describe('proto proxy', () => {
  it('fragments the stream between a raw client and a raw server, bytes intact, and prints its events', async () => {
    echo = await startEcho()
    const { proc, port } = await startServer(['proxy', '0', `127.0.0.1:${echo.port}`, '--faults', 'fragment=1-3', '--seed', '7'], PROXY_LINE)
    expect(proc.stderr()).toMatch(/^proto: proxy on 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+ \(seed 7, faults \{"fragment":\{"min":1,"max":3\}\}\)$/m)
    const payload = Buffer.from(Array.from({ length: 200 }, (_, i) => i))
    const client = net.connect({ port, host: '127.0.0.1' })
    const got: Buffer[] = []
    const all = new Promise<void>((resolve) => {
      client.on('data', (c: Buffer) => { got.push(c); if (Buffer.concat(got).length >= payload.length) resolve() })
    })
    client.write(payload)
    await all
    expect(Buffer.concat(got)).toEqual(payload)
    expect(echo.reads()).toBeGreaterThan(1) // it arrived in pieces, not as the one write it was
    await proc.waitForStderr(/\[proxy\] \+[\d.]+s connection 1 opened/)
    client.end()
    await proc.waitForStderr(/\[proxy\] \+[\d.]+s connection 1 closed \(end\)/)
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
    expect(proc.stderr()).toMatch(/^proto: \[proxy\] 1 connection, 200 B up, 200 B down, 0 cuts \(0 connections\), 0 black holes, 0 B discarded, seed 7$/m)
  })

  it('cuts connections with resets on its schedule: the client sees them, and each is reported', async () => {
    echo = await startEcho()
    const { proc, port } = await startServer(['proxy', '0', `127.0.0.1:${echo.port}`, '--faults', 'cut-every=100ms-200ms,cut-mode=reset,max-faults=1'], PROXY_LINE)
    const client = net.connect({ port, host: '127.0.0.1' })
    const ended = new Promise<string>((resolve) => {
      client.on('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? err.message) })
      client.on('close', () => { resolve('close') })
    })
    expect(await ended).toBe('ECONNRESET')
    await proc.waitForStderr(/\[proxy\] \+[\d.]+s connection 1 closed \(cut-reset\)/)
    expect(proc.stderr()).toMatch(/\[proxy\] \+[\d.]+s cut 1 connection \(reset\)/)
    proc.child.kill('SIGTERM')
    expect((await proc.exit()).code).toBe(143)
  })

  it('--json prints every event as a JSON line on stdout', async () => {
    echo = await startEcho()
    const { proc, port } = await startServer(['proxy', '0', `127.0.0.1:${echo.port}`, '--json', '--faults', '{"delayMs":5}'], PROXY_LINE)
    const client = net.connect({ port, host: '127.0.0.1' })
    await new Promise(resolve => client.once('connect', resolve))
    client.end()
    await proc.waitForStdout(out => out.toString().includes('"connection-close"'))
    proc.child.kill('SIGINT')
    await proc.exit()
    const events = proc.stdout().toString().trim().split('\n').map(l => JSON.parse(l) as { type: string })
    expect(events.map(e => e.type)).toEqual(expect.arrayContaining(['connection', 'connection-close']))
  })

  it('refuses a bad plan, and a target that is not loopback, with exit 2', async () => {
    const bad = await runProto(['proxy', '0', '127.0.0.1:9', '--faults', 'cut-evry=1s'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^proto: unknown fault 'cut-evry' in --faults; known: cut-every, cut-mode, /m)
    const range = await runProto(['proxy', '0', '127.0.0.1:9', '--faults', 'fragment=9-3'])
    expect(range.code).toBe(2)
    expect(range.stderr).toMatch(/expected --faults fragment to be a range written low-high, but got '9-3'/)
    const remote = await runProto(['proxy', '0', '192.0.2.1:80'])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toMatch(/loopback/)
  })
})
