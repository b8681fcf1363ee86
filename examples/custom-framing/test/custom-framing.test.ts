import { codec, formats } from '@proto/codec'
import { connect } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { LegacyPeer } from '../src/index.js'
import { connectLegacy, LegacyType, startLegacyPeer } from '../src/index.js'

let peer: LegacyPeer | undefined
afterEach(async () => { await peer?.close() })

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Resolves once `cond()` holds, re-checked on every event of `on`. */
async function until (cond: () => boolean, on: (wake: () => void) => () => void): Promise<void> {
  if (cond()) return
  await new Promise<void>((resolve) => {
    const off = on(() => { if (cond()) { off(); resolve() } })
  })
}

describe("custom framing: @proto and a '!BI' peer", () => {
  it('puts the exact bytes of struct.pack("!BI", type, len) + body on the wire', async () => {
    peer = await startLegacyPeer({ pingEvery: 60_000 })
    const link = codec(await connect({ host: '127.0.0.1', port: peer.port }), { format: formats.structBI })
    const reply = (async () => { for await (const f of link.source) return f })()
    await link.sink([{ type: LegacyType.TEXT, body: bytes('abc') }])
    expect((await reply)?.type).toBe(LegacyType.REPLY)
    expect(Buffer.concat(peer.rawIn)).toEqual(Buffer.from([0x10, 0x00, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63]))
  })

  it('exchanges messages both ways and answers pings both ways', async () => {
    // its pings every 100 ms, ours after 30 ms without sending (a pong we send counts as sending)
    peer = await startLegacyPeer({ pingEvery: 100 })
    const link = await connectLegacy(peer.port, { interval: 30, timeout: 1_000 })
    const replies: string[] = []
    let rtts = 0
    let release = (): void => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    const wakers = new Set<() => void>()
    const wakeAll = (): void => { for (const w of wakers) w() }
    link.addEventListener('rtt', () => { rtts++; wakeAll() })
    const reading = (async () => {
      for await (const f of link.source) {
        expect(f.type).toBe(LegacyType.REPLY) // its pings and pongs never reach the application
        replies.push(new TextDecoder().decode(f.body))
        wakeAll()
      }
    })()
    const writing = link.sink((async function * () {
      for (const t of ['one', 'two', 'three']) yield { type: LegacyType.TEXT, body: bytes(t) }
      await released
    })())
    const poll = setInterval(wakeAll, 10) // the peer's pong counter is not an event
    try {
      await until(() => rtts >= 3 && peer!.pongsReceived >= 3 && replies.length === 3, (w) => { wakers.add(w); return () => wakers.delete(w) })
    } finally {
      clearInterval(poll)
    }
    release()
    await Promise.all([writing, reading])
    expect(replies).toEqual(['ONE', 'TWO', 'THREE'])
    expect(peer.received.filter(f => f.type === LegacyType.TEXT).map(f => f.body)).toEqual(['one', 'two', 'three'])
    // our pings are its type 0x01 with an empty body, our pongs its 0x02 with an empty body
    expect(peer.received.filter(f => f.type === LegacyType.PING).length).toBeGreaterThanOrEqual(3)
    expect(peer.received.filter(f => f.type === LegacyType.PING || f.type === LegacyType.PONG).every(f => f.body === '')).toBe(true)
    expect(link.stats().pingsReceived).toBeGreaterThanOrEqual(3)
    expect(link.stats().pongsSent).toBe(link.stats().pingsReceived)
    expect(link.stats().rtt.samples).toBe(Math.min(rtts, 32))
  })

  it('declares a hung legacy peer dead with HeartbeatTimeoutError', async () => {
    peer = await startLegacyPeer({ pingEvery: 1_000 })
    const link = await connectLegacy(peer.port, { interval: 50, timeout: 300 })
    const timedOut = new Promise<Error>((resolve) => { link.addEventListener('timeout', (e) => { resolve(e.detail) }) })
    const reading = (async () => { for await (const _ of link.source) { /* drain */ } })()
    await until(() => link.stats().pongsReceived >= 1, (w) => { link.addEventListener('rtt', w); return () => { link.removeEventListener('rtt', w) } })
    peer.hang()
    const hungAt = performance.now()
    expect((await timedOut).name).toBe('HeartbeatTimeoutError')
    expect(performance.now() - hungAt).toBeLessThan(300 + 1_000) // the timeout plus generous slack
    await expect(reading).rejects.toMatchObject({ name: 'HeartbeatTimeoutError' })
  })
})
