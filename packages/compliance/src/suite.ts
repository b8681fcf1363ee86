import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it } from 'vitest'
import { batchChecks } from './batch-checks.js'
import type { ComplianceHarness, StagePair } from './harness.js'
import { collect, hasInChain, resourceSnapshot, settle, waitForResources } from './util.js'

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.byteLength
  }
  return out
}

/**
 * Runs the @proto stage contract against the stage that `harness` builds. Call it at the top level of a
 * test file (it declares a `describe` block).
 */
export function stageCompliance<T> (name: string, harness: ComplianceHarness<T>): void {
  const maxBuffered = harness.maxBuffered ?? DEFAULT_MAX_BUFFERED
  let current: StagePair<T> | undefined

  async function setup (): Promise<StagePair<T>> {
    current = await harness.setup()
    return current
  }

  function expectSame (sent: T[], received: T[]): void {
    if (harness.boundaries) {
      expect(received.length).toBe(sent.length)
      received.forEach((item, i) => { expect(harness.bytes(item)).toEqual(harness.bytes(sent[i])) })
    } else {
      expect(concat(received.map(harness.bytes))).toEqual(concat(sent.map(harness.bytes)))
    }
  }

  describe(`stage contract: ${name}`, () => {
    afterEach(async () => {
      const pair = current
      current = undefined
      if (pair == null) return
      pair.a.abort?.(new Error('test over'))
      pair.b.abort?.(new Error('test over'))
      await harness.teardown?.(pair)
    })

    it('carries items in order both ways through it-pipe', async () => {
      const { a, b } = await setup()
      const toB = Array.from({ length: 100 }, (_, i) => harness.item(i, 1 + (i * 37) % 3000))
      const toA = Array.from({ length: 50 }, (_, i) => harness.item(i + 7, 1 + (i * 91) % 5000))
      const [atB, atA] = await Promise.all([
        collect(b.source),
        collect(a.source),
        pipe(toB, a),
        pipe(toA, b)
      ])
      expectSame(toB, atB)
      expectSame(toA, atA)
    })

    it('rejects the sink when the source it consumes throws', async () => {
      const { a, b } = await setup()
      const boom = new Error('producer failed')
      const drain = settle(collect(b.source))
      const result = await settle(a.sink((async function * () {
        yield harness.item(1, 10)
        throw boom
      })()))
      expect(result.ok).toBe(false)
      expect(hasInChain(result.error, boom)).toBe(true)
      await drain
    })

    it.each([['async', Symbol.asyncIterator], ['sync', Symbol.iterator]] as const)('rejects the sink when the %s source throws as its iterator is made (nothing left unhandled)', async (_kind, key) => {
      const { a, b } = await setup()
      const boom = new Error('no iterator')
      const drain = settle(collect(b.source))
      let result: Awaited<ReturnType<typeof settle>>
      try {
        result = await settle(a.sink({ [key] () { throw boom } } as never))
      } catch (err) {
        throw new Error('sink() threw instead of rejecting', { cause: err })
      }
      expect(result.ok).toBe(false)
      expect(hasInChain((result as { error: unknown }).error, boom)).toBe(true)
      await drain
    })

    it('refuses a sink argument that is not a source (typed, as a rejection) without taking the call', async () => {
      const { a, b } = await setup()
      for (const bad of [null, undefined, 5, {}, 'abc', new Uint8Array(3)]) {
        let result: Awaited<ReturnType<typeof settle>>
        try {
          result = await settle(a.sink(bad as never))
        } catch (err) {
          throw new Error(`sink(${String(bad)}) threw instead of rejecting`, { cause: err })
        }
        expect(result.ok).toBe(false)
        expect((result as { error: Error }).error.name).toBe('InvalidParametersError')
      }
      // the refused calls took nothing: the sink still writes
      const items = [harness.item(1, 10), harness.item(2, 20)]
      const [received] = await Promise.all([collect(b.source), a.sink(items)])
      expectSame(items, received)
    })

    it('keeps half-close apart from abort: ending our sink ends only the peer\'s source', async () => {
      const { a, b } = await setup()
      const first = [harness.item(1, 100), harness.item(2, 100)]
      await a.sink(first)
      expectSame(first, await collect(b.source))
      const reply = [harness.item(3, 200), harness.item(4, 200)]
      const [atA] = await Promise.all([collect(a.source), b.sink(reply)])
      expectSame(reply, atA)
    })

    it('abort(err) fails both directions with err and the peer does not hang', async () => {
      const { a, b } = await setup()
      const reason = new Error('torn down')
      const reading = settle(collect(a.source))
      const writing = settle(a.sink((async function * () {
        yield harness.item(1, 10)
        await new Promise(() => {})
      })()))
      const peer = settle(collect(b.source))
      a.abort?.(reason)
      const [r, w] = await Promise.all([reading, writing, peer])
      expect(r.ok).toBe(false)
      expect(hasInChain(r.error, reason)).toBe(true)
      expect(w.ok).toBe(false)
      expect(hasInChain(w.error, reason)).toBe(true)
    })

    it.each([['no argument', undefined], ['a string', 'torn down']])('abort() with %s fails both directions with an Error, as an abort (never as an end)', async (_what, reason) => {
      const { a, b } = await setup()
      if (a.abort === undefined) return
      const reading = settle(collect(a.source))
      const writing = settle(a.sink((async function * () {
        yield harness.item(1, 10)
        await new Promise(() => {})
      })()))
      const peer = settle(collect(b.source))
      expect(() => { a.abort?.(reason as never) }).not.toThrow()
      const [r, w] = await Promise.all([reading, writing, peer])
      for (const result of [r, w]) {
        expect(result.ok).toBe(false)
        expect((result as { error: unknown }).error).toBeInstanceOf(Error)
      }
      if (reason === undefined) expect((r as { error: Error }).error.name).toBe('AbortError')
      else expect(hasInChain((r as { error: Error }).error, reason)).toBe(true)
    })

    it('applies backpressure to a producer when the consumer stops reading', async () => {
      const { a, b } = await setup()
      const size = 64 * 1024
      const count = Math.ceil((maxBuffered * 2) / size)
      let pulled = 0
      const writing = b.sink((function * () {
        for (let i = 0; i < count; i++) {
          pulled++
          yield harness.item(i, size)
        }
      })())
      // Give the producer ample time to run ahead if nothing held it back.
      await new Promise(resolve => setTimeout(resolve, 300))
      expect(pulled * size).toBeLessThanOrEqual(maxBuffered)
      let received = 0
      for await (const item of a.source) received += harness.bytes(item).byteLength
      await writing
      expect(received).toBe(count * size)
    })

    it('leaves no timers, sockets or handles behind', async () => {
      const before = resourceSnapshot()
      const pair = await setup()
      await Promise.all([collect(pair.b.source), collect(pair.a.source), pipe([harness.item(1, 10)], pair.a), pipe([harness.item(2, 10)], pair.b)])
      await pair.a.close?.()
      await pair.b.close?.()
      current = undefined
      await harness.teardown?.(pair)
      expect(await waitForResources(before, harness.cleanupDeadline ?? 2000)).toEqual([])
    })

    it('close() is idempotent', async (ctx) => {
      const { a, b } = await setup()
      if (a.close == null) { ctx.skip(); return }
      const drain = settle(collect(b.source))
      const drainA = settle(collect(a.source))
      void b.sink([])
      const p1 = a.close()
      const p2 = a.close()
      await Promise.all([p1, p2])
      await a.close()
      await drain
      await drainA
    })

    batchChecks({ harness, setup, expectSame })

    it('surfaces a failure beneath the stage from its source', async (ctx) => {
      const pair = await setup()
      if (pair.breakLower == null) { ctx.skip(); return }
      const reason = new Error('lower layer failed')
      const reading = settle(collect(pair.a.source))
      pair.breakLower(reason)
      const r = await reading
      expect(r.ok).toBe(false)
      expect(r.error).toBeInstanceOf(Error)
    })
  })
}
