import type { Frame } from '@proto/codec'
import { decodeGoAway, FrameType } from '@proto/codec'
import type { CommandContext } from '../context.js'
import type { FrameInput } from '../frames/input.js'
import type { Printer } from '../frames/output.js'
import { describeGoAway, isOrderlyGoAway } from '../goaway.js'
import { endOn } from '../iterables.js'
import type { FrameLink } from '../stack.js'
import { closeWithin } from '../stack.js'

export interface ExchangeInit {
  /** Print this many frames, then finish. */
  readonly count: number | undefined
  /** Once the input has ended and was sent, wait this long for the peer to finish (Infinity: until it does). */
  readonly linger: number
  readonly closeTimeout: number
  /**
   * Whether `@proto` control frames that reach the source (a HELLO without `--hello`; a GOAWAY when no
   * heartbeat stage reads it) are reported on stderr rather than printed.
   */
  readonly isProto: boolean
}

/**
 * Runs one exchange over `link`: `input` goes out, what arrives is printed. It ends when the peer
 * finishes (also after an orderly GOAWAY, see `isOrderlyGoAway`), `--count` frames were printed, `--linger` ran out after the input ended, the user
 * interrupts, or something fails; then it stops the input, closes the link gracefully within
 * `closeTimeout` (aborting it after that, or at once when `--linger` ran out) and throws what ended
 * it, if anything did: the failure, the `InterruptedError`, or the input's `InputError` (frames
 * before the bad input were sent).
 */
export async function exchange (link: FrameLink, input: FrameInput, printer: Printer, init: ExchangeInit, ctx: CommandContext): Promise<void> {
  const stopPrinting = new AbortController()
  let printed = 0
  const reading = (async (): Promise<'peer-ended' | 'count'> => {
    for await (const frame of endOn(link.source, isOrderlyGoAway)) {
      if (init.isProto && reportControl(frame, ctx)) continue
      await printer.print(frame, { index: ++printed }, stopPrinting.signal)
      if (printed === init.count) return 'count'
    }
    return 'peer-ended'
  })()
  const writing = link.sink(input.frames)
  const outcome = await firstOutcome(reading, writing, init.linger, ctx.signal)
  input.stop()
  if (outcome.kind === 'failed' || outcome.kind === 'interrupted') stopPrinting.abort()
  if (outcome.kind === 'failed') {
    link.abort(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)))
    await Promise.allSettled([reading, writing])
    throw outcome.error
  }
  if (outcome.kind === 'peer-ended' && !outcome.inputSent) ctx.report.info('the peer closed the connection')
  if (outcome.kind === 'linger') {
    link.abort(new Error(`the peer did not finish within --linger ${init.linger} ms`))
    ctx.report.info(`the peer did not finish within --linger ${init.linger} ms; the connection was closed`)
  } else if (!await closeWithin(link, init.closeTimeout, () => new Error(`the connection did not close within ${init.closeTimeout} ms`))) {
    if (outcome.kind !== 'interrupted') ctx.report.info(`the peer did not finish within ${init.closeTimeout} ms; the connection was aborted`)
  }
  stopPrinting.abort()
  const [, wrote] = await Promise.allSettled([reading, writing])
  if (outcome.kind === 'interrupted') throw ctx.signal.reason
  if (wrote.status === 'rejected' && outcome.kind === 'peer-ended') throw wrote.reason
  if (input.error !== undefined) throw input.error
}

type Outcome =
  | { kind: 'peer-ended' | 'count', inputSent: boolean }
  | { kind: 'linger' | 'interrupted' }
  | { kind: 'failed', error: unknown }

/** Whichever ends the exchange first; the linger timer starts once the input has been sent. */
async function firstOutcome (reading: Promise<'peer-ended' | 'count'>, writing: Promise<void>, linger: number, signal: AbortSignal): Promise<Outcome> {
  let inputSent = false
  let timer: NodeJS.Timeout | undefined
  let onAbort = (): void => {}
  try {
    return await new Promise<Outcome>((resolve) => {
      reading.then((kind) => { resolve({ kind, inputSent }) }, (error: unknown) => { resolve({ kind: 'failed', error }) })
      writing.then(() => {
        inputSent = true
        if (linger !== Infinity) timer = setTimeout(() => { resolve({ kind: 'linger' }) }, linger)
      }, (error: unknown) => { resolve({ kind: 'failed', error }) })
      onAbort = () => { resolve({ kind: 'interrupted' }) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

/** Reports a GOAWAY (read here only without a heartbeat stage) or a HELLO from an `@proto` peer on stderr; returns whether the frame was one. */
function reportControl (frame: Frame, ctx: CommandContext): boolean {
  if (frame.type === FrameType.GOAWAY) {
    try {
      ctx.report.info(`the peer is going away: ${describeGoAway(decodeGoAway(frame.body))}`)
    } catch (err) {
      ctx.report.error(err, 'the peer sent a GOAWAY that does not follow docs/PROTOCOL.md')
    }
    return true
  }
  if (frame.type === FrameType.HELLO) {
    ctx.report.info('the peer sent a HELLO (pass --hello to negotiate the heartbeat with it)')
    return true
  }
  return false
}
