import { describe, expect, it } from 'vitest'
import type { BenchResult } from '../src/index.js'
import type { RawPeer } from './helpers/peers.js'
import { startInt32Peer, startRawPeer, startStructBIPeer } from './helpers/peers.js'
import { runProto, startProto, startServer } from './helpers/proto.js'

function expectSane (r: BenchResult): void {
  expect(r.msgPerSec).toBeGreaterThan(0)
  expect(r.mbPerSec).toBeCloseTo(r.msgPerSec * r.size / 1e6, 1)
  expect(r.elapsedMs).toBeGreaterThan(0)
  const l = r.latencyMs
  expect(l.min).toBeGreaterThan(0)
  expect(l.min).toBeLessThanOrEqual(l.p50)
  expect(l.p50).toBeLessThanOrEqual(l.p90)
  expect(l.p90).toBeLessThanOrEqual(l.p99)
  expect(l.p99).toBeLessThanOrEqual(l.max)
  expect(l.mean).toBeGreaterThanOrEqual(l.min)
  expect(l.mean).toBeLessThanOrEqual(l.max)
}

describe('proto bench', () => {
  it('against proto listen --echo: every message echoed and measured, JSON result', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', '-o', 'none'])
    const r = await runProto(['bench', `127.0.0.1:${port}`, '--count', '2000', '--warmup', '50', '--size', '100', '--window', '16', '--json'])
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout.toString()) as BenchResult
    expect(result).toMatchObject({ target: `127.0.0.1:${port}`, format: 'proto', size: 100, window: 16, warmup: 50, messages: 2000, stoppedBy: 'count' })
    expectSane(result)
    server.child.kill('SIGINT')
    await server.exit()
  })

  it('against a hand-written int32 echo server, as a human table', async () => {
    let peer: RawPeer | undefined
    try {
      peer = await startInt32Peer({ echo: true })
      const r = await runProto(['bench', `127.0.0.1:${peer.port}`, '-f', 'int32', '-n', '500', '-s', '1KiB', '-w', '1'])
      expect(r.code).toBe(0)
      const out = r.stdout.toString()
      expect(out).toMatch(new RegExp(`^proto bench 127\\.0\\.0\\.1:${peer.port}: int32, 1,024 B bodies, window 1, no heartbeat \\(no type byte\\)\\n`))
      expect(out).toMatch(/^ {2}messages +500 measured after 100 warm-up, stopped by count$/m)
      expect(out).toMatch(/^ {2}throughput +[\d,]+ msg\/s +[\d.]+ MB\/s$/m)
      expect(out).toMatch(/^ {2}latency ms +min +p50 +p90 +p99 +max +mean\n {16}(?:[\d.]+ +){5}[\d.]+$/m)
      // every message went out as [u32be 1024][1024 bytes], 600 of them
      expect(Buffer.concat(peer.rawIn).length).toBe(600 * (4 + 1024))
    } finally {
      await peer?.close()
    }
  })

  it('stops at --duration when --count is out of reach', async () => {
    let peer: RawPeer | undefined
    try {
      peer = await startInt32Peer({ echo: true, delay: 20 })
      const started = performance.now()
      const r = await runProto(['bench', `127.0.0.1:${peer.port}`, '-f', 'int32', '--count', '1000000', '--warmup', '2', '--window', '1', '--duration', '400ms', '--json'])
      expect(r.code).toBe(0)
      const result = JSON.parse(r.stdout.toString()) as BenchResult
      expect(result.stoppedBy).toBe('duration')
      expect(result.messages).toBeGreaterThan(0)
      expect(result.messages).toBeLessThan(40) // 20 ms per round trip, one at a time, for 400 ms
      expect(result.latencyMs.min).toBeGreaterThanOrEqual(19)
      expectSane(result)
      expect(performance.now() - started).toBeLessThan(15_000)
    } finally {
      await peer?.close()
    }
  })

  it('a server that does not echo fails with EchoMismatchError, exit 1', async () => {
    let peer: RawPeer | undefined
    try {
      peer = await startStructBIPeer() // answers in capitals
      // a long --drain-timeout: a timer left behind by the failure would keep the process alive past runProto's bound
      const r = await runProto(['bench', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--size', '4', '--count', '10', '--drain-timeout', '60s'], { timeout: 20_000 })
      expect(r.code).toBe(1)
      expect(r.stdout.length).toBe(0)
      expect(r.stderr).toMatch(/^proto: error: EchoMismatchError: reply 0 is not the echo of message 0: its bytes differ from those sent/m)
    } finally {
      await peer?.close()
    }
  })

  it('a server that stops answering, or ends first, fails with MissingRepliesError, exit 1', async () => {
    let peer: RawPeer | undefined
    let quitter: RawPeer | undefined
    try {
      peer = await startInt32Peer({ echo: true })
      peer.hang() // reads nothing, answers nothing
      const r = await runProto(['bench', `127.0.0.1:${peer.port}`, '-f', 'int32', '--count', '5', '--warmup', '0', '--window', '2', '--duration', '200ms', '--drain-timeout', '300ms'])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^proto: error: MissingRepliesError: 2 messages got no echo: no echo within --drain-timeout 300 ms of the last message sent/m)
      quitter = await startRawPeer({ split: p => p.length >= 4 ? { frame: [], rest: Buffer.alloc(0) } : undefined, onFrame: (_f, socket) => { socket.end() } })
      const q = await runProto(['bench', `127.0.0.1:${quitter.port}`, '-f', 'int32', '--count', '5', '--warmup', '0', '--window', '1'])
      expect(q.code).toBe(1)
      expect(q.stderr).toMatch(/^proto: error: MissingRepliesError: 1 message got no echo: the server ended the connection first/m)
    } finally {
      await peer?.close()
      await quitter?.close()
    }
  })

  it('Ctrl-C stops a run with 130 and prints no result', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', '-o', 'none'])
    const bench = startProto(['bench', `127.0.0.1:${port}`, '--count', '10000000', '--duration', '60s', '--window', '4'])
    await bench.waitForStderr(/connected to/)
    bench.child.kill('SIGINT')
    expect((await bench.exit()).code).toBe(130)
    expect(bench.stdout().length).toBe(0)
    expect(bench.stderr()).toMatch(/^proto: interrupted by SIGINT$/m)
    server.child.kill('SIGINT')
    await server.exit()
  })
})
