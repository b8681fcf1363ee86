/**
 * The benchmark's own `redis-server`: started on a free loopback port in a temporary directory (no RDB, no
 * AOF), stopped by its PID; and a connection of the orchestrator's to read `INFO` (commands processed,
 * memory) around each measurement.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

export interface BenchRedis {
  readonly url: string
  readonly version: string
  /** Commands Redis processed so far (`INFO stats` total_commands_processed, minus this probe's own INFO calls). */
  commands(): Promise<number>
  /** Per-command call counts (`INFO commandstats`). */
  commandStats(): Promise<Record<string, number>>
  /** `used_memory` in bytes. */
  usedMemory(): Promise<number>
  /** CPU seconds the Redis process used so far (`INFO cpu`: user + sys, main thread and all). */
  cpuSeconds(): Promise<number>
  /** `MEMORY USAGE` of every key matching `pattern`, in bytes, by key. */
  keyMemory(pattern: string): Promise<Map<string, number>>
  flush(): Promise<void>
  close(): Promise<void>
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => { resolve(port) })
    })
  })
}

function info (text: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(text)
  if (m === null) throw new Error(`expected ${field} in Redis INFO, but it is not there`)
  return Number(m[1])
}

export async function startBenchRedis (): Promise<BenchRedis> {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (found.error !== undefined) throw new Error('expected redis-server on the PATH (Debian: apt-get install -y redis-server), but it is not installed')
  const version = /v=(\S+)/.exec(found.stdout)?.[1] ?? 'unknown'
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'proto-bench-redis-'))
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  // however the benchmark ends (an error, process.exit), its redis-server does not outlive it
  const orphaned = (): void => { child.kill('SIGKILL') }
  process.once('exit', orphaned)
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`expected redis-server to start on port ${port} within 10 s, but it did not:\n${out}`)) }, 10_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`expected redis-server to run, but it exited with ${String(code)}:\n${out}`)) })
  })
  child.stdout?.resume()
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url)
  let probes = 0
  return {
    url,
    version,
    async commands () {
      const n = info(await probe.info('stats'), 'total_commands_processed') - probes
      probes++
      return n
    },
    async commandStats () {
      probes++
      const text = await probe.info('commandstats')
      const out: Record<string, number> = {}
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2])
      return out
    },
    async usedMemory () {
      probes++
      return info(await probe.info('memory'), 'used_memory')
    },
    async cpuSeconds () {
      probes++
      const text = await probe.info('cpu')
      const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? Number.NaN)
      return field('used_cpu_user') + field('used_cpu_sys')
    },
    async keyMemory (pattern) {
      const keys = await probe.keys(pattern)
      probes++
      const out = new Map<string, number>()
      for (const k of keys) {
        out.set(k, Number(await probe.memory('USAGE', k, 'SAMPLES', '0') ?? 0))
        probes++
      }
      return out
    },
    async flush () {
      probes++
      await probe.flushall()
    },
    async close () {
      probe.disconnect()
      child.kill('SIGTERM')
      await exited
      process.off('exit', orphaned)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
