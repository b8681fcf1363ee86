import type { Socket } from 'node:net'
import { connect as netConnect } from 'node:net'
import { codec, FrameType } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * Guarantees checked: control traffic is bounded. A peer that sends 1 MiB PINGs (docs/PROTOCOL.md allows
 * 0–64 bytes) and never reads is closed at its first such PING with `ProtocolViolationError`, the server's
 * memory per attacking connection stays bounded (before, each one could hold 32 echoed 1 MiB PONGs), and a
 * good client on the same server carries on undisturbed.
 */

const MiB = 1024 * 1024
const ATTACKERS = 20
const PINGS_EACH = 16

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Heap and off-heap (ArrayBuffer) memory of this thread, in bytes. */
const memory = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

/** A raw client that never reads and writes `PINGS_EACH` PINGs of 1 MiB (one shared body, so its own memory stays small). */
async function attack (port: number, body: Uint8Array): Promise<{ socket: Socket, closed: Promise<number> }> {
  const socket = netConnect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  socket.on('error', () => {})
  const started = performance.now()
  const closed = new Promise<number>(resolve => socket.once('close', () => { resolve(performance.now() - started) }))
  const header = new Uint8Array(5)
  new DataView(header.buffer).setUint32(0, body.byteLength)
  header[4] = FrameType.PING
  for (let i = 0; i < PINGS_EACH && !socket.destroyed; i++) {
    socket.write(header)
    socket.write(body)
  }
  return { socket, closed }
}

describe('heartbeat: a server under a ping flood', () => {
  it('evicts peers that send 1 MiB PINGs and never read, with bounded memory, while a good client carries on', async () => {
    const outcomes: Array<Error | undefined> = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
      const link = heartbeat(codec(conn), { interval: 1000, timeout: 5000 })
      link.addEventListener('closed', (e) => { outcomes.push(e.detail.error) })
      await link.sink(link.source).catch(() => {}) // echo; the stage reports how it ended
    })
    cleanups.push(async () => { await server.close({ deadline: 0 }) })
    const port = (server.address as { port: number }).port

    // the good client echoes a message every 10 ms through the whole attack
    const good: HeartbeatDuplex = heartbeat(codec(await connect({ host: '127.0.0.1', port })), { interval: 100, timeout: 2000 })
    cleanups.push(() => { good.abort(new Error('test over')) })
    let sent = 0
    let echoed = 0
    let sending = true
    const reading = (async () => { for await (const _ of good.source) echoed++ })()
    const writing = good.sink((async function * () {
      while (sending) {
        sent++
        yield { type: FrameType.DATA, body: new TextEncoder().encode(`m${sent}`) }
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    })())
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(echoed).toBeGreaterThan(0)

    const before = memory()
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, memory()) }, 2)
    cleanups.push(() => { clearInterval(sampler) })
    const body = new Uint8Array(MiB)
    const attackers = await Promise.all(Array.from({ length: ATTACKERS }, async () => await attack(port, body)))
    cleanups.push(() => { for (const a of attackers) a.socket.destroy() })
    const closedAfter = await Promise.all(attackers.map(async a => await a.closed))
    clearInterval(sampler)

    // every attacker was evicted, with the typed reason, soon (generous bound: the machine is shared)
    expect(closedAfter.every(ms => ms < 5000)).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 50))
    const evicted = outcomes.filter(e => e?.name === 'ProtocolViolationError')
    expect(evicted).toHaveLength(ATTACKERS)
    expect(evicted[0]).toMatchObject({ frameType: FrameType.PING, bodyLength: MiB })
    // memory: at most a few MiB per attacker (its frame being decoded, socket buffers); queued echoes would be 32 MiB each
    const perAttacker = (peak - before) / ATTACKERS
    expect(perAttacker).toBeLessThan(4 * MiB)

    // the good client never noticed
    const at = echoed
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(echoed).toBeGreaterThan(at)
    sending = false
    await writing
    await reading
    expect(echoed).toBe(sent)
    expect(good.stats().pongsReceived).toBe(good.stats().pingsSent)
    await good.close()
  })
})
