import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { reconnect } from '../src/index.js'
import { batches } from './helpers/batches.js'
import { ledger } from './helpers/ledger.js'
import { dialTcp, encodeFrame, readSeq, seq } from './helpers/tcp.js'

/**
 * At-least-once with a peer that knows nothing of @proto: a plain `node:net` echo server (4-byte length
 * framing) that drops every connection after echoing 100 messages, by reset or by FIN. The application
 * confirms an item when its echo comes back (`link.confirm`); retention hands whatever was not confirmed
 * to the next connection, first and in order.
 */

const N = 1_000
const PER_CONNECTION = 100

interface EchoServer { port: number, arrivals: number[], connections: number, close(): Promise<void> }

async function droppingEchoServer (drop: 'reset' | 'fin'): Promise<EchoServer> {
  const sockets = new Set<net.Socket>()
  const state: EchoServer = { port: 0, arrivals: [], connections: 0, close: async () => {} }
  const server = net.createServer((socket) => {
    state.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('end', () => { socket.end() })
    let buf = Buffer.alloc(0)
    let echoed = 0
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      while (echoed < PER_CONNECTION && buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const body = buf.subarray(4, 4 + buf.readUInt32BE(0))
        buf = buf.subarray(4 + body.length)
        state.arrivals.push(readSeq(body))
        socket.write(encodeFrame(body))
        if (++echoed === PER_CONNECTION) {
          // drop this connection: what arrives after the 100th message is not read
          if (drop === 'reset') socket.resetAndDestroy()
          else socket.end()
        }
      }
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  state.port = (server.address() as net.AddressInfo).port
  state.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
  return state
}

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('application acknowledgements against a server that drops every connection after 100 messages', () => {
  it.each([
    ['reset', 'an array, item by item'],
    ['fin', 'an array, item by item'],
    ['reset', 'batches of 64 (nextBatch())'],
    ['fin', 'batches of 64 (nextBatch())']
  ] as const)('by %s, writing %s: 1,000 of 1,000 arrive, in order, duplicates counted', async (drop, how) => {
    const server = await droppingEchoServer(drop)
    cleanup.push(server.close)
    const link = reconnect<Uint8Array>(async ({ signal }) => await dialTcp(server.port, signal), {
      retention: true,
      initialDelay: 1,
      maxDelay: 20
    })
    cleanup.push(() => { link.abort(new Error('test over')) })
    let confirmedUpTo = 0
    let staleEchoes = 0
    const reading = (async () => {
      for await (const echo of link.source) {
        const s = readSeq(echo)
        if (s < confirmedUpTo) { staleEchoes++; continue }
        // the echo of `s` confirms every item up to it: the server read them in order on one connection
        link.confirm(s - confirmedUpTo + 1)
        confirmedUpTo = s + 1
      }
    })()
    const items = Array.from({ length: N }, (_, i) => seq(i))
    const batched = batches(Array.from({ length: N / 64 + 1 }, (_, b) => items.slice(b * 64, b * 64 + 64)).filter(b => b.length > 0))
    await link.sink(how.startsWith('batches') ? batched : items)
    if (how.startsWith('batches')) expect(batched.calls).toMatchObject({ next: 0, nextBatch: Math.ceil(N / 64) + 1 })
    await reading
    // both sides ended their writing and everything was confirmed: the link closes itself
    await link.close()

    const stats = link.stats()
    expect(ledger(stats)).toMatchObject({ accepted: N, sum: N, confirmed: N, unconfirmed: 0, flushed: 0, unsent: 0 })
    expect(stats.status).toBe('closed')
    expect(server.connections).toBeGreaterThanOrEqual(N / PER_CONNECTION)
    // every item arrived; the first arrival of each is in order; anything else is a counted duplicate
    const firsts: number[] = []
    const seen = new Set<number>()
    for (const s of server.arrivals) {
      if (seen.has(s)) continue
      seen.add(s)
      firsts.push(s)
    }
    expect(firsts).toEqual(Array.from({ length: N }, (_, i) => i))
    const duplicates = server.arrivals.length - N
    expect(duplicates).toBeLessThanOrEqual(stats.replayed)
    // each connection starts from the oldest unconfirmed item: arrivals only step back to re-send
    let max = -1
    for (const s of server.arrivals) {
      if (s > max) expect(s).toBe(max + 1)
      max = Math.max(max, s)
    }
    expect(staleEchoes).toBeLessThanOrEqual(duplicates)
  })
})
