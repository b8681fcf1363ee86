/**
 * Memory of idle connections: bare `node:net` sockets against `listen()` (server ends) and `connect()`
 * (client ends), side by side. Each measurement runs in a fresh process that holds only the measured ends
 * (the other ends live in a second process): JS heap (used + external) after two forced GCs and RSS once
 * it has settled after them (`@proto/stage-compliance/memory`), before and after `n` connections are open
 * and idle, divided by `n`. Every transport end is read by a `for await` over `source`, as an application
 * holding an idle connection does; `listen() + sink` also keeps a sink running on a source that has
 * nothing to send yet, as upper stages (heartbeat) do.
 *
 *   npx tsc -b packages/transport && node packages/transport/dist/benchmark/idle.js [connections] [rounds]
 */
import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { settledMemory } from '@proto/stage-compliance/memory'
import type { Connection } from '../src/index.js'
import { connect, listen } from '../src/index.js'

const HOST = '127.0.0.1'
const SELF = fileURLToPath(import.meta.url)
const SETTLE_MS = 500
const DEADLINE_MS = 60_000

type Variant = 'net-server' | 'listen' | 'listen-sink' | 'net-client' | 'connect'
interface Result { variant: Variant, live: number, heap: number, rss: number }

async function message<T> (child: ChildProcess): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no answer from the peer process')) }, DEADLINE_MS)
    child.once('message', (m) => { clearTimeout(timer); resolve(m as T) })
  })
}

async function until (cond: () => boolean): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('connections did not come up in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function drainSource (conn: Connection): Promise<void> {
  try { for await (const _ of conn.source) { /* idle */ } } catch {}
}

/** A source that yields nothing until the connection is gone. */
function nothingYet (conn: Connection): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        await conn.closed
        return { done: true, value: undefined }
      }
    })
  }
}

/** The measured process: holds `n` ends of one variant; the other ends live in a peer process. */
async function measured (variant: Variant, n: number): Promise<Result> {
  const peer = fork(SELF, ['peer', variant, String(n)], { stdio: 'inherit' })
  let live = 0
  let result: Result
  if (variant === 'net-server' || variant === 'listen' || variant === 'listen-sink') {
    let port: number
    let count: () => number
    if (variant === 'net-server') {
      const server = net.createServer({ noDelay: true }, (socket) => {
        live++
        socket.on('data', () => {})
        socket.on('error', () => {})
        socket.on('close', () => { live-- })
      })
      await new Promise<void>(resolve => server.listen(0, HOST, 4096, resolve))
      port = (server.address() as net.AddressInfo).port
      count = () => live
    } else {
      const withSink = variant === 'listen-sink'
      const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
        if (withSink) conn.sink(nothingYet(conn)).catch(() => {})
        await drainSource(conn)
      })
      port = (server.address as { port: number }).port
      count = () => server.connections.size
    }
    const before = await settledMemory()
    peer.send({ port })
    await until(() => count() >= n)
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    const after = await settledMemory()
    result = { variant, live: count(), heap: (after.heap - before.heap) / count(), rss: (after.rss - before.rss) / count() }
  } else {
    const { port } = await message<{ port: number }>(peer)
    const before = await settledMemory()
    const held: unknown[] = []
    for (let i = 0; i < n; i++) {
      if (variant === 'net-client') {
        const s = net.connect({ host: HOST, port, noDelay: true })
        await new Promise(resolve => s.once('connect', resolve))
        s.on('data', () => {})
        s.on('error', () => {})
        held.push(s)
      } else {
        const conn = await connect({ host: HOST, port })
        void drainSource(conn)
        held.push(conn)
      }
      live++
    }
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    const after = await settledMemory()
    result = { variant, live, heap: (after.heap - before.heap) / live, rss: (after.rss - before.rss) / live }
  }
  peer.kill()
  return result
}

/** The other ends: `n` bare clients dialling the measured server, or a bare server for measured clients. */
async function peer (variant: Variant, n: number): Promise<void> {
  const sockets: net.Socket[] = []
  if (variant === 'net-server' || variant === 'listen' || variant === 'listen-sink') {
    const { port } = await new Promise<{ port: number }>(resolve => process.once('message', resolve))
    for (let i = 0; i < n; i++) {
      const s = net.connect({ host: HOST, port, noDelay: true })
      s.on('error', () => {})
      await new Promise(resolve => s.once('connect', resolve))
      sockets.push(s)
    }
  } else {
    const server = net.createServer({ noDelay: true }, (s) => { s.on('error', () => {}); sockets.push(s) })
    await new Promise<void>(resolve => server.listen(0, HOST, 4096, resolve))
    process.send?.({ port: (server.address() as net.AddressInfo).port })
  }
  // Stays until the measured process kills it.
  setInterval(() => {}, 60_000)
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

async function main (): Promise<void> {
  const n = Number(process.argv[2] ?? 3000)
  const rounds = Number(process.argv[3] ?? 3)
  const variants: Variant[] = ['net-server', 'listen', 'listen-sink', 'net-client', 'connect']
  const results = new Map<Variant, Result[]>(variants.map(v => [v, []]))
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const child = fork(SELF, ['measure', v, String(n)], { execArgv: ['--expose-gc'], stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
      results.get(v)?.push(await message<Result>(child))
      child.kill()
    }
  }
  const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`
  const row = (v: Variant): { heap: number, rss: number } => {
    const rs = results.get(v) ?? []
    return { heap: median(rs.map(x => x.heap)), rss: median(rs.map(x => x.rss)) }
  }
  console.log(`node ${process.version}, ${n} idle loopback connections per process, ${rounds} rounds, medians`)
  console.log('| ends measured | heap / conn | RSS / conn | heap ÷ bare | RSS ÷ bare |')
  console.log('|---|---:|---:|---:|---:|')
  for (const [v, base, label] of [
    ['net-server', 'net-server', 'bare net server sockets'],
    ['listen', 'net-server', '`listen()` connections'],
    ['listen-sink', 'net-server', '`listen()` connections + a running sink'],
    ['net-client', 'net-client', 'bare net client sockets'],
    ['connect', 'net-client', '`connect()` connections']
  ] as Array<[Variant, Variant, string]>) {
    const a = row(v)
    const b = row(base)
    console.log(`| ${label} | ${kib(a.heap)} | ${kib(a.rss)} | ${(a.heap / b.heap).toFixed(2)}× | ${(a.rss / b.rss).toFixed(2)}× |`)
  }
}

const [role, variant, count] = process.argv.slice(2)
if (role === 'measure') {
  process.send?.(await measured(variant as Variant, Number(count)))
} else if (role === 'peer') {
  await peer(variant as Variant, Number(count))
} else {
  await main()
}
