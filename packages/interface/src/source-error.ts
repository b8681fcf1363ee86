/**
 * Marks an error thrown by the user's own source while a sink was consuming it, as opposed to a failure of
 * the connection underneath. A sink wraps what its source throws in this marker so that, after unwinding,
 * it can tell the two apart: a source error aborts the connection with that error; a connection failure
 * stops the source.
 */
export class SourceError {
  constructor (
    /** What the user's source threw, as an `Error` (see `toError()`). */
    readonly error: Error
  ) {}
}

/** Turns anything thrown into an `Error` (non-errors become an `Error` whose `cause` is the value). */
export function toError (err: unknown): Error {
  if (err instanceof Error) return err
  let text: string
  try {
    text = String(err)
  } catch {
    // an object without a usable toString (Object.create(null), a throwing toString)
    text = `a thrown ${typeof err} that cannot be shown as text`
  }
  return new Error(text, { cause: err })
}

/**
 * `source[Symbol.asyncIterator]()`, except that a source which throws as its iterator is made gives an
 * iterator that fails with that error at its first read: a sink then handles it as it handles any source
 * that throws (the connection aborted with the error, the sink rejecting with it), instead of the error
 * escaping from wherever the iterator happened to be made.
 */
export function asyncIteratorOf<T> (source: AsyncIterable<T>): AsyncIterator<T> {
  try {
    return source[Symbol.asyncIterator]()
  } catch (err) {
    return { next: async () => { throw err } }
  }
}

/** `source[Symbol.iterator]()`, or, if that throws, an iterator that throws the same error at its first read (see `asyncIteratorOf`). */
export function iteratorOf<T> (source: Iterable<T>): Iterator<T> {
  try {
    return source[Symbol.iterator]()
  } catch (err) {
    return { next: () => { throw err } }
  }
}
