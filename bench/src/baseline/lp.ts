/**
 * `it-length-prefixed` over a plain `node:net` socket, as libp2p-era code uses it:
 * `pipe(messages, lp.encode, socketSink)` on the sender, `pipe(socket, lp.decode, consumer)` on the receiver.
 * "plain" writes every chunk the encoder yields (a varint header, then the body); "corked" corks the socket
 * and uncorks every 64 KiB, so the kernel sees large writes.
 */
import type net from 'node:net'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { RunResult, Tally } from '../lib/net-util.js'
import { closeSocket, connectNet, drained, encodeTally, listenNet, readTally, seconds } from '../lib/net-util.js'
import { messages } from '../lib/producers.js'
import type { SendInit } from './net.js'

/** Receiver: decodes with `lp.decode`; a zero-length message ends a run and is answered with the tally. */
export async function listenLp (): Promise<{ port: number, server: net.Server }> {
  return await listenNet((socket) => {
    const tally: Tally = { count: 0, bytes: 0 }
    void pipe(socket as AsyncIterable<Buffer>, source => lp.decode(source), async (source) => {
      for await (const msg of source) {
        if (msg.byteLength === 0) {
          socket.write(encodeTally(tally))
          tally.count = 0
          tally.bytes = 0
          continue
        }
        tally.count++
        tally.bytes += msg.byteLength
      }
      socket.end()
    }).catch(() => { socket.destroy() })
  })
}

/** Writes every chunk to the socket, waiting for `drain`; corked: uncorks every 64 KiB and at the end. */
export function socketSink (socket: net.Socket, corked: boolean) {
  return async (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<void> => {
    let pending = 0
    for await (const chunk of source) {
      const buf = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      if (corked && pending === 0) socket.cork()
      const ok = socket.write(buf)
      if (corked) {
        pending += buf.byteLength
        if (pending >= 65536 || !ok) { socket.uncork(); pending = 0 }
      }
      if (!ok) await drained(socket)
    }
    if (corked && pending > 0) socket.uncork()
  }
}

export async function sendLp (init: SendInit, corked: boolean): Promise<RunResult> {
  const socket = await connectNet(init.port)
  const payload = new Uint8Array(init.size).fill(0x61)
  const tally = readTally(socket)
  const t0 = seconds()
  await pipe(messages(payload, init.maxCount, t0 + init.maxMs / 1000), source => lp.encode(source), socketSink(socket, corked))
  const got = await tally
  const elapsed = seconds() - t0
  await closeSocket(socket)
  return { ...got, seconds: elapsed }
}
