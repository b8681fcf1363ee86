import { raceSignal } from '@proto/interface'
import { InputError } from '../errors.js'

const NEWLINE = 0x0A

/** One line of input, without its newline. */
export interface Line {
  /** 1-based. */
  readonly number: number
  readonly bytes: Uint8Array
}

/**
 * Splits a byte stream into lines (`\n`; the last line may lack it). Holds at most `maxLineBytes` of a
 * line before failing with `InputError`, so a stream without newlines cannot grow memory without bound.
 * Ends early, without error, when `signal` aborts; the underlying iterator is then returned (a Node
 * stream is destroyed).
 */
export async function * splitLines (input: AsyncIterable<Uint8Array>, maxLineBytes: number, signal: AbortSignal, where = 'stdin', limitName = '--max-frame-length'): AsyncGenerator<Line> {
  const it = input[Symbol.asyncIterator]()
  let parts: Uint8Array[] = []
  let pending = 0
  let number = 0
  const tooLong = (): never => {
    throw new InputError(`${where} line ${number + 1}`, `more than ${maxLineBytes} bytes without a newline, longer than a frame may be (${limitName})`)
  }
  try {
    while (true) {
      let r: IteratorResult<Uint8Array>
      try {
        r = await raceSignal(it.next(), signal)
      } catch (err) {
        if (signal.aborted) return
        throw err
      }
      if (r.done === true) break
      const chunk = r.value
      let start = 0
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        if (pending + nl - start > maxLineBytes) tooLong()
        parts.push(chunk.subarray(start, nl))
        yield { number: ++number, bytes: join(parts, pending + nl - start) }
        parts = []
        pending = 0
        start = nl + 1
      }
      if (start < chunk.length) {
        pending += chunk.length - start
        if (pending > maxLineBytes) tooLong()
        parts.push(chunk.subarray(start))
      }
    }
    if (pending > 0) yield { number: ++number, bytes: join(parts, pending) }
  } finally {
    void it.return?.()?.catch(() => {})
  }
}

function join (parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return new Uint8Array(parts[0]!) // a copy: the chunk may be larger and reused
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
