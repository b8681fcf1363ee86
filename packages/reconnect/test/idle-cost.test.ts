import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import type { DurableDuplex } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { createLedger } from '../src/ledger.js'
import { Outbox } from '../src/outbox.js'
import { itemConnection } from './helpers/item-pair.js'

/** System timers that record each timer asked for: its delay and whether it was asked to be ref'd. */
function recordingTimers (): { armed: Array<{ ms: number, ref: boolean | undefined }>, timers: { setTimeout(fn: () => void, ms: number, options?: { ref?: boolean }): { cancel(): void } } } {
  const armed: Array<{ ms: number, ref: boolean | undefined }> = []
  const timers = {
    setTimeout: (fn: () => void, ms: number, options?: { ref?: boolean }) => {
      armed.push({ ms, ref: options?.ref })
      const t = setTimeout(fn, ms)
      return { cancel: () => { clearTimeout(t) } }
    }
  }
  return { armed, timers }
}

describe('what an idle link keeps', () => {
  it('an outbox that never held an item keeps no ring of its own, with retention or without', () => {
    const ledger = createLedger()
    const limits = { maxMessages: 1_000, maxBytes: 1 << 20, retention: { maxMessages: 100, maxBytes: 1 << 20 } }
    const perOutbox = heapPerObject(50_000, () => new Outbox<number>(limits, ledger))
    // 80 B here: the outbox alone; its two rings, made at once, took it to 208 B
    expect(perOutbox).toBeLessThan(120)
    // and it still keeps what it is given, in order, once it is given something
    const outbox = new Outbox<number>(limits, ledger)
    outbox.push(1, 1)
    outbox.push(2, 1)
    expect(outbox.takeOne()).toBe(1)
    expect(outbox.retainedCount).toBe(1)
    expect(outbox.takeBatch(10)).toEqual([2])
    outbox.confirm(2)
    expect(outbox.retainedCount).toBe(0)
  })

  it('a link keeps no closing state until it ends', () => {
    const links: Array<DurableDuplex<number>> = []
    const perLink = heapPerObject(10_000, () => {
      const link = reconnect<number>(async () => await new Promise(() => {}), { retention: true })
      links.push(link)
      return link
    })
    // 1.41 KiB here before its first dial; its closing state and two rings, made at once, took it to 1.67 KiB
    expect(perLink).toBeLessThan(1_540)
    for (const link of links) link.abort(new Error('test over'))
  })

  it('the deadline of a running close() is a ref\'d timer: an awaited close settles and counts even when nothing else keeps the process alive', async () => {
    const { armed, timers } = recordingTimers()
    const conn = itemConnection<number>(100)
    const link = reconnect<number>(async () => conn.near, { retention: true, timers, closeTimeout: 50 })
    await link.sink([1, 2]) // handed, never confirmed: close() waits for the confirmations until its deadline
    const closing = link.close()
    await closing
    // the wait for confirmations, within what is left of the 50 ms deadline
    const deadline = armed.filter(t => t.ms > 0 && t.ms <= 50)
    expect(deadline.length).toBeGreaterThanOrEqual(1)
    expect(deadline.every(t => t.ref === true)).toBe(true)
    expect(link.stats()).toMatchObject({ status: 'closed', unconfirmed: 2 })
  })

  it('a backoff wait is a ref\'d timer (with no connection open, nothing else keeps the process alive); the connect timeout is not', async () => {
    const { armed, timers } = recordingTimers()
    const link = reconnect<number>(async () => { throw new Error('refused') }, { timers, initialDelay: 5, maxDelay: 5, jitter: 'none', maxAttempts: 2, connectTimeout: 10_000 })
    await expect((async () => { for await (const _ of link.source) { /* none */ } })()).rejects.toMatchObject({ name: 'ReconnectFailedError', kind: 'attempts' })
    expect(armed.filter(t => t.ms === 10_000).map(t => t.ref)).toEqual([undefined, undefined])
    expect(armed.filter(t => t.ms === 5).map(t => t.ref)).toEqual([true])
  })

  it('a script whose link waits to dial again does not exit in the middle (real time): it runs until the link gives up', () => {
    const script = `
      import { reconnect } from '@proto/reconnect'
      const link = reconnect(async () => { throw new Error('refused') }, { initialDelay: 100, maxDelay: 100, jitter: 'none', maxAttempts: 3 })
      try { for await (const _ of link.source) {} } catch (err) { console.log('gave up:', err.kind, err.attempts) }
    `
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 60_000 })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe('gave up: attempts 3')
    expect(run.status).toBe(0)
  })
})
