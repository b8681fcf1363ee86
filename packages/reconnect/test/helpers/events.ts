import type { DurableDuplex, ReconnectEventMap, ReconnectEventType, StatusEvent } from '../../src/index.js'

/** Resolves with the next event of `type`. */
export async function nextEvent<K extends ReconnectEventType> (d: DurableDuplex<any>, type: K): Promise<ReconnectEventMap[K]> {
  return await new Promise((resolve) => {
    d.addEventListener(type, (evt) => { resolve(evt.detail) }, { once: true })
  })
}

/** Records every status event in order. */
export function record (d: DurableDuplex<any>): StatusEvent[] {
  const seen: StatusEvent[] = []
  for (const type of ['connecting', 'connected', 'disconnected', 'reconnecting', 'failed', 'closed'] as const) {
    d.addEventListener(type, (evt) => { seen.push(evt.detail) })
  }
  return seen
}

/** Settles `promise` into an outcome without rejecting. */
export async function settle<T> (promise: Promise<T>): Promise<{ ok: true, value: T } | { ok: false, error: any }> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    return { ok: false, error }
  }
}
