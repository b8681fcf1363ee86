/**
 * Raw `node:net` baselines: hand-written 4-byte framing (one write per message, or batched writes), unframed
 * bulk writes, and a framed echo. Every sender reads its messages from the same async generator as the
 * @proto and it-length-prefixed senders (`lib/producers.ts`). Each receiver counts what it got and sends the
 * tally back; the sender's clock runs from its first write to the tally.
 */
import type net from 'node:net'
import { Batcher4, Deframer, frame4 } from '../lib/framing.js'
import type { RunResult, Tally } from '../lib/net-util.js'
import { closeSocket, connectNet, drained, encodeTally, listenNet, readTally, seconds } from '../lib/net-util.js'
import { messages } from '../lib/producers.js'

export interface SendInit {
  port: number
  /** Body size in bytes. */
  size: number
  /** Messages at most. */
  maxCount: number
  /** Stop sending after this long (ms); what was sent is still counted when it arrives. */
  maxMs: number
}

/** Receiver of 4-byte framed messages; a zero-length frame ends a run and is answered with the tally. */
export async function listenFramed (): Promise<{ port: number, server: net.Server }> {
  return await listenNet((socket) => {
    const tally: Tally = { count: 0, bytes: 0 }
    const deframer = new Deframer(4, (body) => {
      if (body.byteLength === 0) {
        socket.write(encodeTally(tally))
        tally.count = 0
        tally.bytes = 0
        return
      }
      tally.count++
      tally.bytes += body.byteLength
    })
    socket.on('data', (chunk: Buffer) => { deframer.push(chunk) })
    socket.on('end', () => { socket.end() })
  })
}

/** Receiver of an unframed byte stream: the sender's FIN ends the run. */
export async function listenBulk (): Promise<{ port: number, server: net.Server }> {
  return await listenNet((socket) => {
    let bytes = 0
    socket.on('data', (chunk: Buffer) => { bytes += chunk.byteLength })
    socket.on('end', () => { socket.end(encodeTally({ count: bytes, bytes })) })
  })
}

/** Echoes every 4-byte framed message back in one write. */
export async function listenEcho (): Promise<{ port: number, server: net.Server }> {
  return await listenNet((socket) => {
    const deframer = new Deframer(4, (body) => { socket.write(frame4(body)) })
    socket.on('data', (chunk: Buffer) => { deframer.push(chunk) })
    socket.on('end', () => { socket.end() })
  })
}

function body (size: number): Uint8Array {
  return new Uint8Array(size).fill(0x61)
}

/** Frames and writes each message on its own, waiting for `drain` when the socket asks. */
export async function sendEachWrite (init: SendInit): Promise<RunResult> {
  const socket = await connectNet(init.port)
  const tally = readTally(socket)
  const t0 = seconds()
  for await (const m of messages(body(init.size), init.maxCount, t0 + init.maxMs / 1000)) {
    if (!socket.write(frame4(m))) await drained(socket)
  }
  const got = await tally
  const elapsed = seconds() - t0
  await closeSocket(socket)
  return { ...got, seconds: elapsed }
}

/** Packs framed messages into ~64 KiB buffers and writes each buffer once. */
export async function sendBatched (init: SendInit): Promise<RunResult> {
  const socket = await connectNet(init.port)
  const batcher = new Batcher4(65536)
  const tally = readTally(socket)
  const t0 = seconds()
  for await (const m of messages(body(init.size), init.maxCount, t0 + init.maxMs / 1000)) {
    const full = batcher.add(m)
    if (full !== undefined && !socket.write(full)) await drained(socket)
  }
  const last = batcher.flush()
  if (last !== undefined) socket.write(last)
  const got = await tally
  const elapsed = seconds() - t0
  await closeSocket(socket)
  return { ...got, seconds: elapsed }
}

/** Writes the same unframed `size`-byte buffer again and again, then FIN. */
export async function sendBulk (init: SendInit): Promise<RunResult> {
  const socket = await connectNet(init.port)
  const tally = readTally(socket)
  const t0 = seconds()
  for await (const m of messages(Buffer.from(body(init.size)), init.maxCount, t0 + init.maxMs / 1000)) {
    if (m.byteLength > 0 && !socket.write(m)) await drained(socket)
  }
  socket.end()
  const got = await tally
  const elapsed = seconds() - t0
  await closeSocket(socket)
  return { count: got.bytes / init.size, bytes: got.bytes, seconds: elapsed }
}

/** Sequential round trips of one `size`-byte framed message; returns each round trip in µs. */
export async function echoRaw (port: number, size: number, count: number, warmup: number): Promise<Float64Array> {
  const socket = await connectNet(port)
  const payload = body(size)
  let wake: (() => void) | undefined
  const deframer = new Deframer(4, () => { const w = wake; wake = undefined; w?.() })
  socket.on('data', (chunk: Buffer) => { deframer.push(chunk) })
  const samples = new Float64Array(count)
  for (let i = -warmup; i < count; i++) {
    const t = process.hrtime.bigint()
    const reply = new Promise<void>((resolve) => { wake = resolve })
    socket.write(frame4(payload))
    await reply
    if (i >= 0) samples[i] = Number(process.hrtime.bigint() - t) / 1000
  }
  await closeSocket(socket)
  return samples
}
