/**
 * Transport + codec against raw `node:net` with hand-written 4-byte framing, and against
 * `it-length-prefixed` over a transport connection, in one process, interleaved, several runs, medians.
 * (The transport alone against raw `node:net` is `packages/transport/benchmark/throughput.ts`.)
 *
 *   npx tsc -b bench && node bench/dist/src/transport/throughput.js [runs]
 */
import net from 'node:net'
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { Connection } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import * as lp from 'it-length-prefixed'

interface Workload { label: string, size: number, count: number }
interface Variant { name: string, run(w: Workload): Promise<number> }

const HOST = '127.0.0.1'

/** Counts 4-byte big-endian length-prefixed messages in a byte stream without copying bodies. */
function framedCounter (onDone: () => void, expected: number): (chunk: Buffer) => void {
  let messages = 0
  let header = 0
  let headerBytes = 0
  let bodyLeft = 0
  return (chunk: Buffer) => {
    let off = 0
    while (off < chunk.length) {
      if (bodyLeft > 0) {
        const take = Math.min(bodyLeft, chunk.length - off)
        bodyLeft -= take
        off += take
        if (bodyLeft === 0 && ++messages === expected) onDone()
        continue
      }
      header = header * 256 + (chunk[off++] as number)
      if (++headerBytes === 4) {
        bodyLeft = header
        header = 0
        headerBytes = 0
        if (bodyLeft === 0 && ++messages === expected) onDone()
      }
    }
  }
}

async function rawServer (expected: number): Promise<{ port: number, done: Promise<void>, close(): Promise<void> }> {
  let finish!: () => void
  const done = new Promise<void>((resolve) => { finish = resolve })
  const server = net.createServer((s) => {
    s.setNoDelay(true)
    s.on('data', framedCounter(() => { finish(); s.end() }, expected))
    s.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, HOST, resolve))
  return { port: (server.address() as net.AddressInfo).port, done, close: async () => { await new Promise(resolve => server.close(resolve)) } }
}

async function drain (s: net.Socket): Promise<void> {
  await new Promise(resolve => s.once('drain', resolve))
}

/** Raw `node:net`: header and body corked into one write (large), or packed 64 KiB batches (small). */
const raw: Variant = {
  name: 'raw net + 4-byte framing',
  async run ({ size, count }) {
    const srv = await rawServer(count)
    const s = net.connect({ host: HOST, port: srv.port, noDelay: true })
    await new Promise(resolve => s.once('connect', resolve))
    const body = Buffer.alloc(size, 1)
    const started = performance.now()
    if (size >= 4096) {
      for (let i = 0; i < count; i++) {
        const h = Buffer.allocUnsafe(4)
        h.writeUInt32BE(size, 0)
        s.cork()
        s.write(h)
        const ok = s.write(body)
        s.uncork()
        if (!ok) await drain(s)
      }
    } else {
      const per = 4 + size
      const batch = Math.floor(65536 / per)
      for (let i = 0; i < count;) {
        const n = Math.min(batch, count - i)
        const buf = Buffer.allocUnsafe(n * per)
        for (let k = 0; k < n; k++) {
          buf.writeUInt32BE(size, k * per)
          body.copy(buf, k * per + 4)
        }
        i += n
        if (!s.write(buf)) await drain(s)
      }
    }
    await srv.done
    const ms = performance.now() - started
    s.destroy()
    await srv.close()
    return ms
  }
}

async function transportPair (onConn: (conn: Connection) => Promise<void>): Promise<{ client: Connection, done: Promise<void>, close(): Promise<void> }> {
  let finish!: () => void
  const done = new Promise<void>((resolve) => { finish = resolve })
  const server = await listen({ host: HOST, port: 0 }, async (conn) => { await onConn(conn); finish() })
  const addr = server.address as { port: number }
  const client = await connect({ host: HOST, port: addr.port })
  return { client, done, close: async () => { client.abort(new Error('done')); await server.close({ deadline: 200 }) } }
}

/** @proto/transport + @proto/codec (default format: u32 length, u8 type, body). */
const proto: Variant = {
  name: 'transport + codec',
  async run ({ size, count }) {
    const p = await transportPair(async (conn) => {
      let n = 0
      for await (const _frame of codec(conn).source) if (++n === count) break
    })
    const body = new Uint8Array(size).fill(1)
    const started = performance.now()
    const writing = codec(p.client).sink((function * (): Generator<Frame> {
      for (let i = 0; i < count; i++) yield { type: 0, body }
    })())
    await p.done
    const ms = performance.now() - started
    await writing
    await p.close()
    return ms
  }
}

/** @proto/transport alone, with the same hand-written 4-byte framing as the raw variant. */
const bare: Variant = {
  name: 'transport + 4-byte framing',
  async run ({ size, count }) {
    let finish!: () => void
    const counted = new Promise<void>((resolve) => { finish = resolve })
    const p = await transportPair(async (conn) => {
      const count4 = framedCounter(finish, count)
      for await (const chunk of conn.source) count4(chunk as Buffer)
    })
    const body = new Uint8Array(size).fill(1)
    const started = performance.now()
    const writing = p.client.sink((function * () {
      for (let i = 0; i < count; i++) {
        const h = Buffer.allocUnsafe(4)
        h.writeUInt32BE(size, 0)
        yield h
        yield body
      }
    })())
    await counted
    const ms = performance.now() - started
    await writing
    await p.close()
    return ms
  }
}

/** `it-length-prefixed` encode/decode over a @proto/transport connection. */
const itlp: Variant = {
  name: 'it-length-prefixed over transport',
  async run ({ size, count }) {
    const p = await transportPair(async (conn) => {
      let n = 0
      for await (const _msg of lp.decode(conn.source)) if (++n === count) break
    })
    const body = new Uint8Array(size).fill(1)
    const started = performance.now()
    const writing = p.client.sink(lp.encode((function * () {
      for (let i = 0; i < count; i++) yield body
    })()))
    await p.done
    const ms = performance.now() - started
    await writing
    await p.close()
    return ms
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

async function main (): Promise<void> {
  const runs = Number(process.argv[2] ?? 5)
  const workloads: Workload[] = [
    { label: 'bulk 64 KiB messages', size: 64 * 1024, count: 4096 },
    { label: 'small 64 B messages', size: 64, count: 500_000 }
  ]
  const variants = [raw, bare, proto, itlp]
  console.log(`node ${process.version}, ${runs} interleaved runs per cell, medians`)
  for (const w of workloads) {
    const times = new Map<string, number[]>(variants.map(v => [v.name, []]))
    for (let r = 0; r < runs; r++) {
      for (const v of variants) times.get(v.name)?.push(await v.run(w))
    }
    const rate = (name: string): number => w.count / (median(times.get(name) ?? []) / 1000)
    const rawRate = rate(raw.name)
    const lpRate = rate(itlp.name)
    console.log(`\n${w.label} (${w.count} × ${w.size} B per run)`)
    console.log('| variant | MB/s | msg/s | × raw net | × it-length-prefixed |')
    console.log('|---|---:|---:|---:|---:|')
    for (const v of variants) {
      const r = rate(v.name)
      console.log(`| ${v.name} | ${(r * w.size / 1e6).toFixed(0)} | ${Math.round(r).toLocaleString('en-US')} | ${(r / rawRate).toFixed(2)} | ${(r / lpRate).toFixed(2)} |`)
    }
  }
}

await main()
