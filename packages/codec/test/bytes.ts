/** Joins chunks (views or lists) into one `Uint8Array`, for comparing what was encoded. */
export function concat (chunks: Iterable<Uint8Array | { subarray(): Uint8Array }>): Uint8Array {
  const parts = [...chunks].map(c => c instanceof Uint8Array ? c : c.subarray())
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** Feeds `items` through an async generator, as a socket would deliver them. */
export async function * asAsync<T> (items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item
}
