/**
 * Server-side cost of keep-alive: N loopback connections each pinging once a second, served by a bare
 * `node:net` server with one shared timer, by `codec(socket)` answering PINGs in a user loop (the layers
 * beneath the heartbeat), by `heartbeat(codec(socket))`, and by the full `heartbeat(codec(conn))` over
 * `@proto/transport`, in one run. Reports CPU (% of one core over a window)
 * and memory per connection (RSS and JS heap + external, after GC), with ratios against the bare server.
 *
 * Run from the repo root (builds first):
 *   sh bench/src/heartbeat/run.sh [connections] [cpu window ms] [rounds]
 */
import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const N = Number(process.argv[2] ?? 5000)
const WINDOW = Number(process.argv[3] ?? 10_000)
const ROUNDS = Number(process.argv[4] ?? 2)
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

async function reply<T> (child: ChildProcess, type: string): Promise<T> {
  return await new Promise((resolve, reject) => {
    const onMessage = (msg: { type: string }): void => {
      if (msg.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(msg as T)
    }
    const onExit = (code: number | null): void => { reject(new Error(`child exited (${code}) before '${type}'`)) }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

interface Result { mode: string, cpu: number, rssPerConn: number, heapPerConn: number, live: number, deaths: number, pongs: number, destroyed: number }

async function measure (mode: string): Promise<Result> {
  // BENCH_PROF=<mode> writes a CPU profile of that server to ./bench-profiles
  const prof = process.env.BENCH_PROF === mode ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : []
  const server = fork(here('./server.js'), [mode, String(N)], { execArgv: ['--expose-gc', ...prof] })
  const { port } = await reply<{ port: number }>(server, 'listening')
  const connected = reply(server, 'connected')
  const clients = fork(here('./clients.js'), [String(port), String(N)])
  await reply(clients, 'open')
  await connected
  await new Promise(resolve => setTimeout(resolve, 3000)) // every connection has pinged a few times
  server.send({ type: 'memory' })
  const mem = await reply<{ rssPerConn: number, heapPerConn: number }>(server, 'memory')
  server.send({ type: 'cpu', window: WINDOW })
  const cpu = await reply<{ cpu: number, live: number, deaths: number }>(server, 'cpu')
  clients.send({ type: 'stats' })
  const cs = await reply<{ pongs: number, destroyed: number }>(clients, 'stats')
  clients.send({ type: 'exit' })
  server.send({ type: 'exit' })
  await Promise.all([new Promise(resolve => clients.once('exit', resolve)), new Promise(resolve => server.once('exit', resolve))])
  return { mode, cpu: cpu.cpu, rssPerConn: mem.rssPerConn, heapPerConn: mem.heapPerConn, live: cpu.live, deaths: cpu.deaths, pongs: cs.pongs, destroyed: cs.destroyed }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const modes = process.env.BENCH_MODES?.split(',') ?? ['bare', 'codec', 'heartbeat', 'transport']
const runs = new Map<string, Result[]>(modes.map(m => [m, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of modes) {
    const res = await measure(mode)
    runs.get(mode)?.push(res)
    console.error(`round ${r + 1} ${mode}: cpu ${(res.cpu * 100).toFixed(1)} %, rss/conn ${(res.rssPerConn / 1024).toFixed(1)} KiB, heap+ext/conn ${(res.heapPerConn / 1024).toFixed(1)} KiB, live ${res.live}, deaths ${res.deaths}, pongs at clients ${res.pongs}, destroyed ${res.destroyed}`)
  }
}
const agg = (mode: string, key: 'cpu' | 'rssPerConn' | 'heapPerConn'): number => median((runs.get(mode) ?? []).map(r => r[key]))
console.log(`\n${N} connections, 1 ping/s each, CPU window ${WINDOW} ms, ${ROUNDS} interleaved rounds, medians; node ${process.version}\n`)
console.log('| server | CPU (% of a core) | CPU ratio | RSS / conn | RSS ratio | JS heap + external / conn | heap ratio |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const mode of modes) {
  const row = [
    mode === 'bare' ? 'bare `net`, one shared timer' : mode === 'codec' ? '`codec(socket)`, PONGs from a user loop, no timer (reference)' : mode === 'heartbeat' ? '`heartbeat(codec(socket))`' : '`heartbeat(codec(conn))` over `@proto/transport`',
    `${(agg(mode, 'cpu') * 100).toFixed(2)} %`,
    `${(agg(mode, 'cpu') / agg('bare', 'cpu')).toFixed(2)}×`,
    `${(agg(mode, 'rssPerConn') / 1024).toFixed(1)} KiB`,
    `${(agg(mode, 'rssPerConn') / agg('bare', 'rssPerConn')).toFixed(2)}×`,
    `${(agg(mode, 'heapPerConn') / 1024).toFixed(1)} KiB`,
    `${(agg(mode, 'heapPerConn') / agg('bare', 'heapPerConn')).toFixed(2)}×`
  ]
  console.log(`| ${row.join(' | ')} |`)
}
