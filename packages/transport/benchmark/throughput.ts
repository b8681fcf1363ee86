/**
 * The transport alone against raw `node:net`, like with like: the same chunk sizes, the same kind of
 * producer (an async generator, as applications have it) and the same receiver, in one process, the
 * variants interleaved in every run, medians of the per-run ratios. Each run reports wall time and the
 * process CPU time (user + system) it took; on a shared machine CPU per MiB is the steadier figure.
 *
 * - Write path: every sender feeds the same raw `net` receiver that only counts bytes.
 *   - `net write`: `socket.write()` per chunk, `await` on `'drain'` when it returns `false`;
 *   - `net cork/tick`: the same, corked from the first write of a tick until `process.nextTick` (what
 *     Node's HTTP layer does), so one tick's chunks leave in one `writev`;
 *   - `transport`: `conn.sink(producer)`;
 *   - `transport nextBatch`: `conn.sink()` over a source whose iterator also offers `nextBatch()` with
 *     up to 64 chunks (what batching upper stages hand down).
 * - Read path: the same raw `net` sender writes 64 KiB buffers; the receiver counts bytes with a
 *   `'data'` listener (`net data`) or `for await` over `conn.source` (`transport`).
 *
 *   npx tsc -b packages/transport && node packages/transport/dist/benchmark/throughput.js [runs]
 */
import net from 'node:net'
import { connect, listen } from '../src/index.js'

const HOST = '127.0.0.1'
const BATCH = 64

interface Workload { label: string, size: number, bytes: number }
interface Variant { name: string, run(w: Workload): Promise<number> }
interface Sample { ms: number, cpu: number }

function chunkOf (size: number): Uint8Array {
  return new Uint8Array(size).fill(7)
}

async function * producer ({ size, bytes }: Workload): AsyncGenerator<Uint8Array> {
  const chunk = chunkOf(size)
  for (let sent = 0; sent < bytes; sent += size) yield chunk
}

/** An async source whose iterator also hands out up to `BATCH` chunks per `nextBatch()`. */
function batchProducer ({ size, bytes }: Workload): AsyncIterable<Uint8Array> {
  const chunk = chunkOf(size)
  let sent = 0
  const iterator = {
    async next (): Promise<IteratorResult<Uint8Array>> {
      if (sent >= bytes) return { done: true, value: undefined }
      sent += size
      return { done: false, value: chunk }
    },
    async nextBatch (): Promise<Uint8Array[] | undefined> {
      if (sent >= bytes) return undefined
      const batch: Uint8Array[] = []
      while (sent < bytes && batch.length < BATCH) {
        batch.push(chunk)
        sent += size
      }
      return batch
    },
    [Symbol.asyncIterator] () { return this }
  }
  return iterator
}

/** A raw `net` server that counts `expected` bytes, then resolves `done`. */
async function countingServer (expected: number): Promise<{ port: number, done: Promise<void>, close(): Promise<void> }> {
  let finish!: () => void
  const done = new Promise<void>((resolve) => { finish = resolve })
  const server = net.createServer((s) => {
    let got = 0
    s.on('data', (c: Buffer) => { got += c.byteLength; if (got >= expected) finish() })
    s.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, HOST, resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    done,
    close: async () => { await new Promise(resolve => server.close(resolve)) }
  }
}

async function rawClient (port: number): Promise<net.Socket> {
  const s = net.connect({ host: HOST, port, noDelay: true })
  await new Promise(resolve => s.once('connect', resolve))
  return s
}

async function drain (s: net.Socket): Promise<void> {
  await new Promise(resolve => s.once('drain', resolve))
}

async function timed (expected: number, send: (port: number) => Promise<() => void>): Promise<number> {
  const srv = await countingServer(expected)
  const started = performance.now()
  const teardown = await send(srv.port)
  await srv.done
  const ms = performance.now() - started
  teardown()
  await srv.close()
  return ms
}

const netWrite: Variant = {
  name: 'net write',
  async run (w) {
    return await timed(w.bytes, async (port) => {
      const s = await rawClient(port)
      for await (const chunk of producer(w)) if (!s.write(chunk)) await drain(s)
      return () => { s.destroy() }
    })
  }
}

const netCork: Variant = {
  name: 'net cork/tick',
  async run (w) {
    return await timed(w.bytes, async (port) => {
      const s = await rawClient(port)
      let corked = false
      const uncork = (): void => { corked = false; s.uncork() }
      for await (const chunk of producer(w)) {
        if (!corked) { corked = true; s.cork(); process.nextTick(uncork) }
        if (!s.write(chunk)) await drain(s)
      }
      return () => { s.destroy() }
    })
  }
}

const transportSink: Variant = {
  name: 'transport',
  async run (w) {
    return await timed(w.bytes, async (port) => {
      const conn = await connect({ host: HOST, port })
      await conn.sink(producer(w))
      return () => { conn.abort(new Error('done')) }
    })
  }
}

const transportBatch: Variant = {
  name: 'transport nextBatch',
  async run (w) {
    return await timed(w.bytes, async (port) => {
      const conn = await connect({ host: HOST, port })
      await conn.sink(batchProducer(w))
      return () => { conn.abort(new Error('done')) }
    })
  }
}

/** Read path: a raw sender writes 64 KiB buffers to `port` until `bytes` are out. */
async function rawSend (port: number, bytes: number): Promise<net.Socket> {
  const s = await rawClient(port)
  const buf = chunkOf(64 * 1024)
  for (let sent = 0; sent < bytes; sent += buf.byteLength) if (!s.write(buf)) await drain(s)
  return s
}

const netData: Variant = {
  name: 'net data',
  async run ({ bytes }) {
    let finish!: () => void
    const done = new Promise<void>((resolve) => { finish = resolve })
    const server = net.createServer((s) => {
      let got = 0
      s.on('data', (c: Buffer) => { got += c.byteLength; if (got >= bytes) finish() })
      s.on('error', () => {})
    })
    await new Promise<void>(resolve => server.listen(0, HOST, resolve))
    const started = performance.now()
    const s = await rawSend((server.address() as net.AddressInfo).port, bytes)
    await done
    const ms = performance.now() - started
    s.destroy()
    await new Promise(resolve => server.close(resolve))
    return ms
  }
}

const transportSource: Variant = {
  name: 'transport source',
  async run ({ bytes }) {
    let finish!: () => void
    const done = new Promise<void>((resolve) => { finish = resolve })
    const server = await listen({ host: HOST, port: 0 }, async (conn) => {
      let got = 0
      for await (const c of conn.source) { got += c.byteLength; if (got >= bytes) break }
      finish()
    })
    const started = performance.now()
    const s = await rawSend((server.address as { port: number }).port, bytes)
    await done
    const ms = performance.now() - started
    s.destroy()
    await server.close({ deadline: 200 })
    return ms
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

async function sample (v: Variant, w: Workload): Promise<Sample> {
  const cpu0 = process.cpuUsage()
  const ms = await v.run(w)
  const cpu = process.cpuUsage(cpu0)
  return { ms, cpu: (cpu.user + cpu.system) / 1000 }
}

async function table (title: string, w: Workload, variants: Variant[], runs: number): Promise<void> {
  const samples = variants.map((): Sample[] => [])
  for (const v of variants) await v.run({ ...w, bytes: Math.min(w.bytes, 4 * 1024 * 1024) }) // warm-up
  for (let r = 0; r < runs; r++) {
    // rotate the order each run, so no variant always runs first
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length
      samples[i]?.push(await sample(variants[i] as Variant, w))
    }
  }
  const base = samples[0] as Sample[]
  const mib = w.bytes / 2 ** 20
  const name = variants[0]?.name ?? ''
  console.log(`\n${title}: ${w.label} (${mib.toFixed(0)} MiB per run)`)
  console.log(`| variant | MB/s | chunks/s | × ${name} (speed) | CPU ms/MiB | × ${name} (CPU) |`)
  console.log('|---|---:|---:|---:|---:|---:|')
  variants.forEach((v, i) => {
    const s = samples[i] as Sample[]
    const rate = w.bytes / (median(s.map(x => x.ms)) / 1000)
    const speed = median(s.map((x, r) => (base[r] as Sample).ms / x.ms))
    const cpu = median(s.map(x => x.cpu)) / mib
    const cpuRatio = median(s.map((x, r) => x.cpu / (base[r] as Sample).cpu))
    console.log(`| ${v.name} | ${(rate / 1e6).toFixed(0)} | ${Math.round(rate / w.size).toLocaleString('en-US')} | ${speed.toFixed(2)} | ${cpu.toFixed(2)} | ${cpuRatio.toFixed(2)} |`)
  })
}

async function main (): Promise<void> {
  const runs = Number(process.argv[2] ?? 5)
  console.log(`node ${process.version}, ${runs} runs per cell, variants interleaved`)
  const writers = [netWrite, netCork, transportSink, transportBatch]
  await table('write path', { label: '64 B chunks', size: 64, bytes: 24 * 2 ** 20 }, writers, runs)
  await table('write path', { label: '1 KiB chunks', size: 1024, bytes: 128 * 2 ** 20 }, writers, runs)
  await table('write path', { label: '64 KiB chunks', size: 64 * 1024, bytes: 512 * 2 ** 20 }, writers, runs)
  await table('read path', { label: '64 KiB writes', size: 64 * 1024, bytes: 512 * 2 ** 20 }, [netData, transportSource], runs)
}

await main()
