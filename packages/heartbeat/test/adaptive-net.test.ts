import { codec } from '@proto/codec'
import { startFaultProxy } from '@proto/fault-proxy'
import { cleanupsWithLeakCheck, resourceSnapshot } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { seeded } from './helpers/link.js'
import { closed, dial, listen, socketDuplex } from './helpers/net.js'
import { settle } from './helpers/raw-peer.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

const MIN = 200
const MAX = 1600
/** Fixed: `MIN` and three times it. Adaptive: starts at `MAX`, timeout 3 × `MAX` there, so grace (3 − 1) × `MIN`. */
const FIXED: HeartbeatInit = { hello: true, interval: MIN, timeout: 3 * MIN }
const adaptive = (random: number): HeartbeatInit => ({ hello: true, interval: MAX, timeout: 3 * MAX, adaptiveInterval: { min: MIN, max: MAX, jitter: 50, random: () => random } })

async function drain (hb: HeartbeatDuplex): Promise<unknown> {
  return await settle((async () => { for await (const _ of hb.source) { /* nothing is sent */ } })())
}

describe('adaptive interval over real sockets, through a proxy that adds jitter and then black-holes the link', () => {
  const cleanups = cleanupsWithLeakCheck(3000)

  /**
   * client ⇄ proxy ⇄ server (the server yields when pings cross). Half a stable second, then the proxy's
   * one-way delay jumps between 0 and 150 ms every 100 ms (seeded) for 2 s or, with `untilMin`, until the
   * client's interval is down to `MIN` (and half a second more); then a black hole.
   * Returns how long after the black hole the client declared the server dead, the silence it judged,
   * and the intervals the client went through.
   */
  async function run (client: HeartbeatInit, server: HeartbeatInit, untilMin: boolean): Promise<{ after: number, silence: number, intervals: number[] }> {
    const srv = await listen()
    cleanups.push(async () => { await srv.close() })
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: srv.port }, seed: 7 })
    cleanups.push(async () => { await proxy.close() })
    const socket = await dial(proxy.port)
    const a = heartbeat(codec(socketDuplex(socket)), client)
    const b = heartbeat(codec(socketDuplex(await srv.next())), server)
    const reads = [drain(a), drain(b)]
    const intervals = [a.stats().interval]
    on(a, 'interval', (d) => { intervals.push(d.interval) })
    await new Promise(resolve => setTimeout(resolve, 500))

    const random = seeded(11)
    const jitter = setInterval(() => { proxy.setDelay(random() < 0.5 ? 0 : 150) }, 100)
    const started = performance.now()
    while (performance.now() - started < 10_000) {
      await new Promise(resolve => setTimeout(resolve, 50))
      if (untilMin ? a.stats().interval === MIN : performance.now() - started >= 2000) break
    }
    if (untilMin) await new Promise(resolve => setTimeout(resolve, 500))
    clearInterval(jitter)

    const dead = new Promise<{ at: number, silence: number }>((resolve) => {
      on(a, 'timeout', (err) => { resolve({ at: performance.now(), silence: err.lastReceivedAge }) })
    })
    const holedAt = performance.now()
    proxy.blackHole()
    const { at, silence } = await dead
    await Promise.all(reads)
    await closed(socket)
    b.abort(new Error('test over'))
    return { after: at - holedAt, silence, intervals }
  }

  it('finds the dead peer no later than a fixed min interval does', async () => {
    const fixed = await run(FIXED, FIXED, false)
    const adapted = await run(adaptive(0.9), adaptive(0), true)
    // the adaptive client started at max and came down to min during the jitter
    expect(adapted.intervals[0]).toBe(MAX)
    expect(adapted.intervals.at(-1)).toBe(MIN)
    // both judge the silence by 3 × min (generous bounds: the machine may be busy; the exact rule is
    // checked under fake timers)
    const SLACK = 400
    expect(fixed.silence).toBeGreaterThanOrEqual(3 * MIN)
    expect(adapted.silence).toBeGreaterThanOrEqual(3 * MIN)
    expect(adapted.silence).toBeLessThan(fixed.silence + SLACK)
    expect(adapted.after).toBeLessThan(fixed.after + SLACK)
    // and far sooner than at the interval it started with (max + grace)
    expect(adapted.after).toBeLessThan(MAX)
  }, 40_000)
})
