import type { Frame } from '@proto/codec'
import type { BatchIterator } from '@proto/interface'
import { DONE, isBatchIterator, readUint64, writeUint64 } from '@proto/interface'
import { BENCH_SEQ_BYTES, PREVIEW_BYTES } from '../constants.js'
import { EchoMismatchError, MissingRepliesError, NothingMeasuredError } from '../errors.js'
import type { FrameLink } from '../stack.js'
import type { BenchResult } from './bench-result.js'
import { latencySummary } from './bench-result.js'

/** What one run sends. */
export interface BenchPlan {
  readonly count: number
  readonly size: number
  readonly window: number
  readonly warmup: number
  readonly duration: number
  /** After sending stops, how long the echoes still in flight may take, in ms. */
  readonly drainTimeout: number
  readonly type: number
}

export type Measured = Pick<BenchResult, 'messages' | 'stoppedBy' | 'elapsedMs' | 'msgPerSec' | 'mbPerSec' | 'latencyMs'>

/** Bytes after the sequence number: a pattern, so a reply with the right length but other bytes is caught. */
function filler (size: number): Uint8Array {
  const f = new Uint8Array(size)
  for (let i = 0; i < size; i++) f[i] = (i * 31 + 7) & 0xFF
  return f
}

const hex = (b: Uint8Array): string => Buffer.from(b.subarray(0, PREVIEW_BYTES)).toString('hex') + (b.length > PREVIEW_BYTES ? '…' : '')

/** The state of one run, shared by the producer and the consumer. */
interface Run {
  readonly plan: BenchPlan
  readonly pattern: Uint8Array
  /** 8 when bodies carry the sequence number, 0 when they are too small. */
  readonly seqBytes: number
  /** When each message in flight was handed to the stack, by position modulo the window. */
  readonly sentAt: Float64Array
  readonly samples: Float64Array
  sent: number
  received: number
  firstMeasuredAt: number
  lastReplyAt: number
  stoppedBy: BenchResult['stoppedBy']
  sendingDone: boolean
  /** Wakes the producer waiting for room in the window. */
  wake: (() => void) | undefined
  drainTimer: NodeJS.Timeout | undefined
  /** Whether `finished` has settled: nothing may start after that. */
  settled: boolean
  readonly finished: Promise<void>
  finish(): void
  fail(err: unknown): void
}

function createRun (plan: BenchPlan): Run {
  let finish = (): void => {}
  let fail = (_err: unknown): void => {}
  const finished = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject })
  finished.catch(() => {}) // observed by measure(); the producer only waits on it
  const run: Run = {
    plan,
    pattern: filler(plan.size),
    seqBytes: plan.size >= BENCH_SEQ_BYTES ? BENCH_SEQ_BYTES : 0,
    sentAt: new Float64Array(plan.window),
    samples: new Float64Array(plan.count),
    sent: 0,
    received: 0,
    firstMeasuredAt: NaN,
    lastReplyAt: NaN,
    stoppedBy: 'count',
    sendingDone: false,
    wake: undefined,
    drainTimer: undefined,
    settled: false,
    finished,
    finish: () => { run.settled = true; finish() },
    fail: (err) => { run.settled = true; fail(err) }
  }
  return run
}

function notify (run: Run): void {
  const w = run.wake
  run.wake = undefined
  w?.()
}

function checkDone (run: Run): void {
  if (run.sendingDone && run.received === run.sent) run.finish()
}

/** No more messages: the echoes still in flight get `drainTimeout` ms. */
function stopSending (run: Run): void {
  run.sendingDone = true
  notify(run)
  if (run.drainTimer !== undefined || run.settled) return
  run.drainTimer = setTimeout(() => {
    run.fail(new MissingRepliesError(run.sent - run.received, `no echo within --drain-timeout ${run.plan.drainTimeout} ms of the last message sent`))
  }, run.plan.drainTimeout)
  checkDone(run)
}

/** The next messages that fit in the window, all stamped with one clock read; waits for room first. */
async function nextMessages (run: Run): Promise<Frame[] | undefined> {
  const { plan } = run
  const total = plan.warmup + plan.count
  while (!run.sendingDone && run.sent < total && run.sent - run.received >= plan.window) {
    await new Promise<void>((resolve) => { run.wake = resolve })
  }
  if (run.sendingDone || run.sent >= total) {
    stopSending(run)
    // keep our side open until the echoes are in: a server may stop answering once it reads our FIN
    await run.finished.catch(() => {})
    return undefined
  }
  const n = Math.min(plan.window - (run.sent - run.received), total - run.sent)
  const now = performance.now()
  const batch: Frame[] = []
  for (let k = 0; k < n; k++, run.sent++) {
    const body = new Uint8Array(plan.size)
    body.set(run.pattern)
    if (run.seqBytes > 0) writeUint64(body, 0, run.sent)
    if (run.sent === plan.warmup) run.firstMeasuredAt = now
    run.sentAt[run.sent % plan.window] = now
    batch.push({ type: plan.type, body })
  }
  return batch
}

/** What the stack's sink reads: whole windows at once through `nextBatch()`, or one message per `next()`. */
function producer (run: Run): AsyncIterable<Frame> {
  let queue: Frame[] = []
  let at = 0
  const out: AsyncIterableIterator<Frame> & BatchIterator<Frame> = {
    [Symbol.asyncIterator]: () => out,
    nextBatch: async () => {
      if (at < queue.length) {
        const rest = queue.slice(at)
        queue = []
        at = 0
        return rest
      }
      return await nextMessages(run)
    },
    next: async () => {
      if (at >= queue.length) {
        const batch = await nextMessages(run)
        if (batch === undefined) return DONE
        queue = batch
        at = 0
      }
      return { done: false, value: queue[at++]! }
    },
    return: async () => {
      stopSending(run)
      return DONE
    }
  }
  return out
}

function check (run: Run, frame: Frame, i: number): void {
  const { type, size } = run.plan
  const { seqBytes, pattern } = run
  if (i >= run.sent) throw new EchoMismatchError(i, 'it arrived before that message was sent')
  if (frame.type !== type) throw new EchoMismatchError(i, `its type is ${frame.type}, not ${type}`)
  if (frame.body.length !== size) throw new EchoMismatchError(i, `it has ${frame.body.length} bytes, not ${size}`)
  if (seqBytes > 0 && readUint64(frame.body, 0) !== i) throw new EchoMismatchError(i, `it carries sequence number ${readUint64(frame.body, 0)} (bytes ${hex(frame.body)})`)
  if (Buffer.compare(frame.body.subarray(seqBytes), pattern.subarray(seqBytes)) !== 0) throw new EchoMismatchError(i, `its bytes differ from those sent (got ${hex(frame.body)})`)
}

/** Reads the echoes, a batch at a time when the source offers batches, checking and timing each. */
async function consume (run: Run, source: AsyncIterable<Frame>): Promise<void> {
  const { warmup, window } = run.plan
  const it = source[Symbol.asyncIterator]()
  const take = isBatchIterator(it) ? async () => await it.nextBatch() : async () => { const r = await it.next(); return r.done === true ? undefined : [r.value] }
  for (let batch = await take(); batch !== undefined; batch = await take()) {
    const now = performance.now()
    for (const frame of batch) {
      const i = run.received
      check(run, frame, i)
      if (i >= warmup) run.samples[i - warmup] = now - run.sentAt[i % window]!
      run.received++
    }
    run.lastReplyAt = now
    notify(run)
    checkDone(run)
  }
  if (run.received < run.sent) throw new MissingRepliesError(run.sent - run.received, 'the server ended the connection first')
}

/**
 * Sends `warmup + count` messages with at most `window` in flight, checks that each reply is the echo of
 * the message in its position, and times every measured round trip (from handing a message to the stack
 * to reading its echo). Sending stops early when `duration` runs out. Resolves when every message sent
 * was echoed; rejects with `EchoMismatchError` or `MissingRepliesError` (or the link's error) otherwise,
 * and when `signal` aborts. The caller closes the link.
 */
export async function measure (link: FrameLink, plan: BenchPlan, signal: AbortSignal): Promise<Measured> {
  const run = createRun(plan)
  const durationTimer = setTimeout(() => { run.stoppedBy = 'duration'; stopSending(run) }, plan.duration)
  const onAbort = (): void => { run.fail(signal.reason) }
  signal.addEventListener('abort', onAbort, { once: true })
  consume(run, link.source).catch(run.fail)
  link.sink(producer(run)).catch(run.fail)
  try {
    await run.finished
  } finally {
    clearTimeout(durationTimer)
    clearTimeout(run.drainTimer)
    signal.removeEventListener('abort', onAbort)
  }
  const measured = Math.max(0, run.received - plan.warmup)
  if (measured === 0) throw new NothingMeasuredError(`no message was measured: --duration ${plan.duration} ms ran out during the ${plan.warmup} warm-up messages; raise --duration or lower --warmup`)
  const elapsedMs = run.lastReplyAt - run.firstMeasuredAt
  return {
    messages: measured,
    stoppedBy: run.stoppedBy,
    elapsedMs,
    msgPerSec: measured / (elapsedMs / 1000),
    mbPerSec: measured * plan.size / 1e6 / (elapsedMs / 1000),
    latencyMs: latencySummary(run.samples.subarray(0, measured))
  }
}
