import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Frame } from '@proto/codec'
import type { SessionClientInit, SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import { connect } from '@proto/transport'

/** The node script and the Node options that run it from source. */
export const NODE_SCRIPT = fileURLToPath(new URL('./node.ts', import.meta.url))
export const EXEC_ARGV = ['--conditions=source', '--import', 'tsx']
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

export interface NodeProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly name: string
  readonly exited: Promise<void>
}

/** Starts one server node process (test/src/redis/node.ts) and resolves once it listens. */
export async function startNodeProcess (env: Record<string, string>): Promise<NodeProcess> {
  const child = fork(NODE_SCRIPT, [], { cwd: ROOT, execArgv: EXEC_ARGV, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const info = await new Promise<{ port: number, name: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('expected the node process to listen within 20 s')) }, 20_000)
    child.on('message', (m: { type?: string, port: number, name: string }) => { if (m.type === 'ready') { clearTimeout(timer); resolve(m) } })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`expected the node process to start, but it exited (${code})`)) })
  })
  return { child, exited, ...info }
}

/** Everything the nodes' applications took (their ledgers), counted per item. */
export function readLedgers (dir: string): Map<string, number> {
  const counts = new Map<string, number>()
  if (!existsSync(dir)) return counts
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1)
  }
  return counts
}

export const item = (s: string): Frame => ({ type: 0x40, body: new TextEncoder().encode(s) })
export const text = (f: Frame): string => new TextDecoder().decode(f.body)

/** A session client whose next dial goes to `target.port` (`init` overrides its options). */
export function clientTo (target: { port: number }, init: SessionClientInit = {}): SessionDuplex {
  return sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: target.port }, { signal }), {
    initialDelay: 20,
    maxDelay: 200,
    heartbeat: { interval: 250, timeout: 2_000 },
    ...init
  })
}

/** A client's items `c<from>`…: a source that writes `count` items, pausing every 20 (so things happen mid-run). */
export async function * numbered (from: number, count: number, pause: () => Promise<void> = async () => { await new Promise(resolve => setTimeout(resolve, 2)) }, prefix = 'c'): AsyncGenerator<Frame> {
  for (let i = from; i < from + count; i++) {
    yield item(`${prefix}${i}`)
    if (i % 20 === 0) await pause()
  }
}
