import type { PushSource, PushTarget } from '@proto/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { connect, listen, memoryPair } from '../src/index.js'
import { portOf, readAll, settle } from './helpers.js'

/** What a plain JavaScript caller (or `pipe(['text'], conn)`) can hand to `sink()` that is not bytes. */
const NOT_BYTES: Array<[string, unknown, string]> = [
  ['a string', 'hello', 'string'],
  ['a number', 5, 'number'],
  ['null', null, 'null'],
  ['undefined', undefined, 'undefined'],
  ['a plain object', { a: 1 }, 'Object'],
  ['an array of numbers', [1, 2, 3], 'Array'],
  ['a Uint16Array', new Uint16Array([1, 2, 3]), 'Uint16Array']
]

describe('sink(): a chunk that is not bytes', () => {
  for (const kind of ['synchronous', 'async'] as const) {
    it.each(NOT_BYTES)(`%s from a ${kind} source rejects the sink with InvalidParametersError and aborts the connection with it`, async (_, value, named) => {
      const [a, b] = memoryPair()
      const reading = settle(readAll(b))
      const chunks = [new Uint8Array([1]), value, new Uint8Array([2])]
      const source = kind === 'async' ? (async function * () { yield * chunks })() : chunks
      const r = await settle(a.sink(source as Iterable<Uint8Array>))
      expect(r.ok ? undefined : r.error.name).toBe('InvalidParametersError')
      expect(r.ok ? undefined : r.error.message).toContain(`got ${named}`)
      expect(await a.closed).toMatchObject({ reason: 'aborted', initiator: 'local', error: r.ok ? undefined : r.error })
      expect(a.stats().chunksOut).toBe(1) // the refused chunk is not counted, nothing after it is taken
      const p = await reading
      expect(p.ok ? undefined : p.error.name).toBe('ConnectionResetError')
    })
  }

  it('a string from an async source that then waits: the sink rejects, nothing reaches the process as an uncaught exception (real TCP)', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => { uncaught.push(err) }
    process.on('uncaughtException', onUncaught)
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await settle(readAll(conn)) })
    try {
      const client = await connect({ host: '127.0.0.1', port: portOf(server) })
      // the string is queued for the writers' shared tick; the producer is still running when that tick comes
      const r = await settle(client.sink((async function * () {
        yield 'hello' as unknown as Uint8Array
        await new Promise(resolve => setTimeout(resolve, 20))
      })()))
      expect(r.ok ? undefined : r.error.name).toBe('InvalidParametersError')
      expect(await client.closed).toMatchObject({ reason: 'aborted', error: r.ok ? undefined : r.error })
      expect(uncaught).toEqual([])
      // the process, and the server, serve on
      const other = await connect({ host: '127.0.0.1', port: portOf(server) })
      await other.sink([new Uint8Array([1])])
      other.abort(new Error('test over'))
    } finally {
      process.off('uncaughtException', onUncaught)
      await server.close({ deadline: 200 })
    }
  })

  it('a push source that pushes a chunk that is not bytes: the watcher is told InvalidParametersError, the connection is aborted, the source released', async () => {
    const [a, b] = memoryPair()
    const reading = settle(readAll(b))
    let returned = false
    const source: PushSource<Uint8Array> = {
      subscribe (target: PushTarget<Uint8Array>): void {
        setImmediate(() => { target.push([new Uint8Array([1]), 'text' as unknown as Uint8Array]) })
      },
      resume (): void {},
      return (): void { returned = true }
    }
    const ended = new Promise<Error | undefined>((resolve) => { a.sinkPush(source, { onSinkEnd: resolve }) })
    // bounded: a watcher that is never told would wait for good
    const err = await Promise.race([ended, new Promise<Error>(resolve => setTimeout(() => { resolve(new Error('never told')) }, 5_000))])
    expect(err?.name).toBe('InvalidParametersError')
    expect(await a.closed).toMatchObject({ reason: 'aborted', error: err })
    expect(returned).toBe(true)
    expect((await reading).ok).toBe(false)
  })

  it('Uint8Array, Buffer and Uint8ArrayList (empty ones included) are all taken', async () => {
    const [a, b] = memoryPair()
    const chunks = [new Uint8Array([1]), Buffer.from([2]), new Uint8ArrayList(new Uint8Array([3]), new Uint8Array([4])), new Uint8Array(0), new Uint8ArrayList()]
    const [, got] = await Promise.all([a.sink(chunks), readAll(b), b.sink([])])
    expect([...got]).toEqual([1, 2, 3, 4])
    expect(a.stats().chunksOut).toBe(5)
    expect((await a.closed).reason).toBe('closed')
  })
})
