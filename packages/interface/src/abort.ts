import { defaultMaxListeners, getMaxListeners, setMaxListeners } from 'node:events'
import { toError } from './source-error.js'

/**
 * Races `promise` against `signal`: rejects with `signal.reason` as soon as the signal aborts, and removes
 * its listener whichever way it settles.
 */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await promise
  if (signal.aborted) {
    // nothing else will ever wait on `promise`: its rejection must not be left unhandled
    promise.catch(() => {})
    throw signal.reason
  }
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort != null) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Listens once for `signal`'s abort on behalf of something that lives as long as a link or a server, and
 * removes the listener when it ends. One application signal is often shared by many of them (a shutdown
 * signal given to every link), and Node then warns of a possible leak at its 11th listener; since each
 * owner removes its own, the number is bounded by the live owners, so a signal still at Node's default
 * limit has that limit lifted (`events.setMaxListeners(Infinity, signal)`). A limit the application chose
 * is left as it is. Returns the function that removes the listener.
 */
export function onAbortOf (signal: AbortSignal, listener: () => void): () => void {
  if (limitOf(signal) === defaultMaxListeners) setMaxListeners(Infinity, signal)
  signal.addEventListener('abort', listener, { once: true })
  return () => { signal.removeEventListener('abort', listener) }
}

/** The signal's listener limit; Node 20's `getMaxListeners` throws for an event target whose limit is 0 (none). */
function limitOf (signal: AbortSignal): number {
  try {
    return getMaxListeners(signal)
  } catch {
    return 0
  }
}

/**
 * The error `abort(err)` fails both directions with: `err` itself when it is an `Error`; for `abort()` with
 * no argument, an `AbortError` (a `DOMException`, as `AbortSignal.abort()` makes); any other value wrapped
 * in an `Error` whose `cause` it is. So an abort always fails what waits with an `Error`, never ends a read
 * as if the peer had finished, and never throws.
 */
export function abortReason (err: unknown): Error {
  if (err instanceof Error) return err
  if (err === undefined) return new DOMException('The connection was aborted', 'AbortError')
  return toError(err)
}
