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
