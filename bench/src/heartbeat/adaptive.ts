/**
 * Fixed against adaptive ping interval, in one run: N idle loopback connections, `heartbeat(codec(socket))`
 * at both ends, on a stable link and on a poor one (what a client reads delayed by 0 or 3 s at scale at
 * random, per chunk, in order), then every link black-holed at once. Reports pings per idle connection per minute (both ends),
 * the process's CPU while idle (against the same connections without a heartbeat), and how long each client
 * took to declare its peer dead after the black hole.
 *
 * Time is compressed 20× (faster would measure the machine's timer lag: a shared 2-core machine kills live
 * peers with fixed 100 ms / 300 ms heartbeats): 250 ms stands for 5 s, so the policies are the defaults at that
 * scale — fixed `min` (5 s / 15 s), fixed default (15 s / 45 s) and adaptive (`interval` 15 s, `adaptiveInterval`
 * with its default bounds 5–45 s and `jitter` scaled to 1.5 s).
 *
 * Run from the repo root: `npx tsc -b bench && node bench/dist/src/heartbeat/adaptive.js [connections] [window ms] [rounds]`
 * (defaults 100, 15 000, 1; about 4 min a round). `BENCH_ONLY=<prefix>` runs only the policies whose name starts with it.
 */
import net from 'node:net'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex, HeartbeatInit } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { ByteChunk, ByteDuplex } from '@proto/interface'
import { socketDuplex } from '@proto/stage-compliance/socket-duplex'

const N = Number(process.argv[2] ?? 100)
const WINDOW = Number(process.argv[3] ?? 15_000)
const ROUNDS = Number(process.argv[4] ?? 1)
/** Time compression: one bench millisecond stands for this many. */
const SCALE = 20
/** 5 s at scale: the default `min` of an adaptive 15 s interval. */
const MIN = 5000 / SCALE
/** Long enough for the adaptive policy to grow from 15 s to 45 s on a stable link (6 on-time pongs: 6.75 s here). */
const WARMUP = 9000
/** The poor link: each inbound chunk of a client is delayed by 0 or this many ms at random (3 s at scale). */
const POOR_DELAY = 3000 / SCALE
/** RTT spread that counts as a poor link: 1.5 s at scale (the unscaled default is 100 ms). */
const JITTER = 1500 / SCALE
const POLICIES: Record<string, HeartbeatInit | undefined> = {
  'none (CPU baseline)': undefined,
  'fixed min (5 s / 15 s)': { hello: true, interval: MIN, timeout: 3 * MIN },
  'fixed default (15 s / 45 s)': { hello: true, interval: 3 * MIN, timeout: 9 * MIN },
  'adaptive (5–45 s)': { hello: true, interval: 3 * MIN, timeout: 9 * MIN, adaptiveInterval: { jitter: JITTER } }
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * A link the bench controls: while poor, each inbound chunk is delayed by 0 or `POOR_DELAY` ms at random (in order:
 * never before the one ahead of it); once black-holed everything is dropped and not even the peer closing
 * its end gets through, until `release()` (or an abort).
 */
interface Link { poor: boolean, holed: boolean, release: () => void }

function impaired (lower: ByteDuplex, link: Link): ByteDuplex {
  const released = new Promise<void>((resolve) => { link.release = resolve })
  const queue: Array<{ chunk: ByteChunk, due: number }> = []
  let wake: (() => void) | undefined
  let ended = false
  let failure: unknown
  void (async () => {
    let last = 0
    try {
      for await (const chunk of lower.source) {
        if (link.holed) continue
        last = Math.max(last, performance.now() + (link.poor && Math.random() < 0.5 ? POOR_DELAY : 0))
        queue.push({ chunk, due: last })
        wake?.()
      }
    } catch (err) {
      failure = err
    }
    ended = true
    wake?.()
  })()
  return {
    ...lower,
    abort (err: Error): void { link.release(); lower.abort?.(err) },
    source: (async function * () {
      while (true) {
        const next = queue[0]
        if (next !== undefined) {
          const wait = next.due - performance.now()
          if (wait > 0) { await sleep(wait); continue }
          queue.shift()
          if (!link.holed) yield next.chunk
        } else if (ended) {
          break
        } else {
          await new Promise<void>((resolve) => { wake = resolve })
          wake = undefined
        }
      }
      if (link.holed) await released
      else if (failure !== undefined) throw failure
    })(),
    async sink (source) {
      await lower.sink((async function * () {
        for await (const chunk of source as AsyncIterable<ByteChunk>) if (!link.holed) yield chunk
      })())
    }
  }
}

interface Result { pingsPerMin: number, cpu: number, interval: number, intervals: number[], detect: number[], falseDeaths: number }

async function measure (policy: HeartbeatInit | undefined, poor: boolean): Promise<Result> {
  const accepted: net.Socket[] = []
  const server = net.createServer((socket) => { accepted.push(socket) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const sockets: net.Socket[] = []
  for (let i = 0; i < N; i++) {
    const s = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject))
    sockets.push(s)
  }
  while (accepted.length < N) await sleep(10)
  const links = sockets.map((): Link => ({ poor, holed: false, release: () => {} }))
  const stages: HeartbeatDuplex[] = []
  const closed = new Set<HeartbeatDuplex>() // before the black hole: a live peer declared dead
  const reads: Array<Promise<unknown>> = []
  const read = (source: AsyncIterable<unknown>): void => {
    reads.push((async () => { for await (const _ of source) { /* idle: nothing is sent */ } })().catch(() => {}))
  }
  for (let i = 0; i < N; i++) {
    const client = codec(impaired(socketDuplex(sockets[i]), links[i]))
    const peer = codec(socketDuplex(accepted[i]))
    if (policy === undefined) { read(client.source); read(peer.source); continue }
    const a = heartbeat(client, policy)
    const b = heartbeat(peer, policy)
    stages.push(a, b)
    for (const s of [a, b]) s.addEventListener('closed', () => { if (!links[i].holed) closed.add(s) }, { once: true })
    read(a.source)
    read(b.source)
  }
  const pings = (): number => stages.reduce((sum, s) => sum + s.stats().pingsSent, 0)
  await sleep(WARMUP)
  const pings0 = pings()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await sleep(WINDOW)
  const cpu = process.cpuUsage(cpu0)
  const elapsed = performance.now() - t0
  const intervals = stages.filter((_, i) => i % 2 === 0).map(s => s.stats().interval) // the clients'
  const result: Result = {
    pingsPerMin: (pings() - pings0) / N / elapsed * 60_000,
    cpu: (cpu.user + cpu.system) / 1000 / elapsed,
    interval: median(intervals),
    intervals,
    detect: [],
    falseDeaths: 0
  }
  if (policy !== undefined) {
    result.falseDeaths = closed.size
    const clients = stages.filter((s, i) => i % 2 === 0 && !closed.has(s))
    const holedAt = performance.now()
    const dead = clients.map(async c => await new Promise<number>((resolve) => {
      c.addEventListener('timeout', () => { resolve(performance.now() - holedAt) }, { once: true })
      c.addEventListener('closed', () => { resolve(Infinity) }, { once: true })
    }))
    for (const link of links) link.holed = true
    result.detect = await Promise.race([Promise.all(dead), sleep(4 * 9 * MIN).then(() => [])])
  }
  for (const s of [...sockets, ...accepted]) s.destroy()
  for (const link of links) link.release()
  await Promise.all(reads)
  await new Promise(resolve => server.close(resolve))
  return result
}

function median (xs: number[]): number { return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN }
function quantile (xs: number[], q: number): number { return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN }

const results = new Map<string, Result[]>()
for (let r = 0; r < ROUNDS; r++) {
  for (const poor of [false, true]) {
    for (const [name, policy] of Object.entries(POLICIES)) {
      if (process.env.BENCH_ONLY !== undefined && !name.startsWith(process.env.BENCH_ONLY)) continue
      const res = await measure(policy, poor)
      const key = `${poor ? 'poor' : 'stable'}|${name}`
      results.set(key, [...(results.get(key) ?? []), res])
      const heartbeat = policy === undefined ? '' : `, interval ${res.interval} ms (p90 ${quantile(res.intervals, 0.9)}, max ${Math.max(...res.intervals)}), detection median ${median(res.detect).toFixed(0)} ms (${res.detect.length} of ${N}), live peers declared dead ${res.falseDeaths}`
      console.error(`round ${r + 1} ${key}: ${res.pingsPerMin.toFixed(1)} pings/conn/min, cpu ${(res.cpu * 100).toFixed(2)} %${heartbeat}`)
    }
  }
}

const real = (ms: number): string => `${(ms * SCALE / 1000).toFixed(1)} s`
console.log(`\n${N} idle connections, heartbeat at both ends over loopback TCP, ${WINDOW} ms window after ${WARMUP} ms, ${ROUNDS} round(s), medians; time compressed ${SCALE}× (${MIN} ms stands for 5 s), figures in real time except CPU; node ${process.version}\n`)
console.log('| link | policy | interval reached | pings / conn / min | ÷ fixed min | CPU, compressed (% of a core) | heartbeat CPU ÷ fixed min | live peers declared dead | detection median / p95 / max |')
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|')
for (const link of ['stable', 'poor']) {
  const of = (name: string, key: 'pingsPerMin' | 'cpu' | 'interval'): number => median((results.get(`${link}|${name}`) ?? []).map(r => r[key]))
  const idle = of('none (CPU baseline)', 'cpu')
  for (const name of Object.keys(POLICIES)) {
    const rs = results.get(`${link}|${name}`) ?? []
    const none = name.startsWith('none')
    const ppm = of(name, 'pingsPerMin') / SCALE
    const detect = rs.flatMap(r => r.detect)
    const row = [
      link, name, none ? '–' : real(of(name, 'interval')), ppm.toFixed(2),
      none ? '–' : `${(of('fixed min (5 s / 15 s)', 'pingsPerMin') / SCALE / ppm).toFixed(2)}×`,
      `${(of(name, 'cpu') * 100).toFixed(2)} %`,
      none ? '–' : `${((of(name, 'cpu') - idle) / (of('fixed min (5 s / 15 s)', 'cpu') - idle)).toFixed(2)}`,
      none ? '–' : `${rs.reduce((n, r) => n + r.falseDeaths, 0)} of ${2 * N * rs.length}`,
      detect.length === 0 ? '–' : `${real(median(detect))} / ${real(quantile(detect, 0.95))} / ${real(Math.max(...detect))}`
    ]
    console.log(`| ${row.join(' | ')} |`)
  }
}
