import type { Frame } from '@proto/codec'
import { readUint64, writeUint64 } from '@proto/interface'
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

/**
 * Sends `warmup + count` messages with at most `window` in flight, checks that each reply is the echo of
 * the message in its position, and times every measured round trip. Sending stops early when
 * `duration` runs out. Resolves when every message sent was echoed; rejects with `EchoMismatchError`
 * or `MissingRepliesError` (or the link's error) otherwise, and when `signal` aborts. The caller closes
 * the link.
 */
export async function measure (link: FrameLink, plan: BenchPlan, signal: AbortSignal): Promise<Measured> {
  const { count, size, window, warmup, type } = plan
  const total = warmup + count
  const pattern = filler(size)
  const seqBytes = size >= BENCH_SEQ_BYTES ? BENCH_SEQ_BYTES : 0
  const sentAt = new Float64Array(window)
  const samples = new Float64Array(count)
  let sent = 0
  let received = 0
  let firstMeasuredAt = NaN
  let lastReplyAt = NaN
  let stoppedBy: BenchResult['stoppedBy'] = 'count'
  let sendingDone = false
  let wake: (() => void) | undefined
  const notify = (): void => { const w = wake; wake = undefined; w?.() }

  let finish = (): void => {}
  let fail = (_err: unknown): void => {}
  const finished = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject })
  const checkDone = (): void => { if (sendingDone && received === sent) finish() }
  let drainTimer: NodeJS.Timeout | undefined
  const stopSending = (): void => {
    sendingDone = true
    if (drainTimer !== undefined) return
    drainTimer = setTimeout(() => { fail(new MissingRepliesError(sent - received, `no echo within --drain-timeout ${plan.drainTimeout} ms of the last message sent`)) }, plan.drainTimeout)
    checkDone()
  }
  const durationTimer = setTimeout(() => { stoppedBy = 'duration'; stopSending(); notify() }, plan.duration)
  const onAbort = (): void => { fail(signal.reason) }
  signal.addEventListener('abort', onAbort, { once: true })

  async function * produce (): AsyncGenerator<Frame> {
    try {
      while (sent < total && !sendingDone) {
        if (sent - received >= window) {
          await new Promise<void>((resolve) => { wake = resolve })
          continue
        }
        const body = new Uint8Array(size)
        body.set(pattern)
        if (seqBytes > 0) writeUint64(body, 0, sent)
        const now = performance.now()
        if (sent === warmup) firstMeasuredAt = now
        sentAt[sent % window] = now
        sent++
        yield { type, body }
      }
      stopSending()
      // keep our side open until the echoes are in: a server may stop answering once it reads our FIN
      await finished.catch(() => {})
    } finally {
      stopSending()
    }
  }

  const check = (frame: Frame, i: number): void => {
    if (i >= sent) throw new EchoMismatchError(i, 'it arrived before that message was sent')
    if (frame.type !== type) throw new EchoMismatchError(i, `its type is ${frame.type}, not ${type}`)
    if (frame.body.length !== size) throw new EchoMismatchError(i, `it has ${frame.body.length} bytes, not ${size}`)
    if (seqBytes > 0 && readUint64(frame.body, 0) !== i) throw new EchoMismatchError(i, `it carries sequence number ${readUint64(frame.body, 0)} (bytes ${hex(frame.body)})`)
    if (Buffer.compare(frame.body.subarray(seqBytes), pattern.subarray(seqBytes)) !== 0) throw new EchoMismatchError(i, `its bytes differ from those sent (got ${hex(frame.body)})`)
  }

  const reading = (async () => {
    for await (const frame of link.source) {
      const i = received
      check(frame, i)
      const now = performance.now()
      if (i >= warmup) samples[i - warmup] = now - sentAt[i % window]!
      lastReplyAt = now
      received++
      notify()
      checkDone()
    }
    if (received < sent) throw new MissingRepliesError(sent - received, 'the server ended the connection first')
  })()
  reading.catch(fail)
  link.sink(produce()).catch(fail)
  try {
    await finished
  } finally {
    clearTimeout(durationTimer)
    clearTimeout(drainTimer)
    signal.removeEventListener('abort', onAbort)
  }
  const measured = Math.max(0, received - warmup)
  if (measured === 0) throw new NothingMeasuredError(`no message was measured: --duration ${plan.duration} ms ran out during the ${warmup} warm-up messages; raise --duration or lower --warmup`)
  const elapsedMs = lastReplyAt - firstMeasuredAt
  return {
    messages: measured,
    stoppedBy,
    elapsedMs,
    msgPerSec: measured / (elapsedMs / 1000),
    mbPerSec: measured * size / 1e6 / (elapsedMs / 1000),
    latencyMs: latencySummary(samples.subarray(0, measured))
  }
}
