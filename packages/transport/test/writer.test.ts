import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it, vi } from 'vitest'
import type { Carrier } from '../src/carrier.js'
import type { ConnectionConfig } from '../src/config.js'
import { COALESCE_BELOW } from '../src/constants.js'
import { Writer } from '../src/writer.js'

/** A carrier that records each write (a vectored write as its buffers). */
function recorder (): { carrier: Carrier, writes: Uint8Array[][] } {
  const writes: Uint8Array[][] = []
  const carrier = {
    write: (data: Uint8Array) => { writes.push([data]); return true },
    writev: (data: Uint8Array[]) => { writes.push([...data]); return true }
  } as unknown as Carrier
  return { carrier, writes }
}

const config = { clock: { now: () => 5 }, writeStallTimeout: 0 } as unknown as ConnectionConfig
const owner = { writeStalled: () => {}, writeFailed: () => {} }
const tick = async (): Promise<void> => { await new Promise<void>((resolve) => { process.nextTick(resolve) }) }

describe('Writer', () => {
  it('writes a chunk queued alone as it is, with no copy, and several small ones as one buffer', async () => {
    const { carrier, writes } = recorder()
    const w = new Writer(carrier, config, owner)
    expect(w.lastWriteAt).toBe(-Infinity)
    const ping = new Uint8Array([0, 0, 0, 8, 2])
    w.push(ping)
    await tick()
    expect(writes).toHaveLength(1)
    expect(writes[0]?.[0]).toBe(ping)
    expect(w.lastWriteAt).toBe(5)

    w.push(new Uint8Array([1, 2]))
    w.push(new Uint8Array([3]))
    w.push(new Uint8Array(0)) // nothing to write: ignored
    w.push(new Uint8Array([4]))
    await tick()
    expect(writes).toHaveLength(2)
    expect([...(writes[1]?.[0] ?? [])]).toEqual([1, 2, 3, 4])

    // and alone again after that
    const next = new Uint8Array([9])
    w.push(next)
    await tick()
    expect(writes[2]?.[0]).toBe(next)
    expect({ writes: w.writes, chunks: w.chunks, bytes: w.bytes }).toEqual({ writes: 3, chunks: 6, bytes: 10 })
  })

  it('keeps large chunks uncopied beside joined small ones, a list included, in order', async () => {
    const { carrier, writes } = recorder()
    const w = new Writer(carrier, config, owner)
    const large = new Uint8Array(COALESCE_BELOW).fill(7)
    w.push(new Uint8ArrayList(new Uint8Array([1]), large))
    w.push(new Uint8Array([2]))
    w.push(new Uint8Array([3]))
    await tick()
    expect(writes).toHaveLength(1)
    const [first, second, third] = writes[0] ?? []
    expect([...(first ?? [])]).toEqual([1])
    expect(second).toBe(large)
    expect([...(third ?? [])]).toEqual([2, 3])
  })

  it('writes every writer that queued in one synchronous run from one tick, and each again after it', async () => {
    const { carrier, writes } = recorder()
    const writers = Array.from({ length: 50 }, () => new Writer(carrier, config, owner))
    const spy = vi.spyOn(process, 'nextTick')
    try {
      writers.forEach((w, i) => { w.push(new Uint8Array([i])); w.push(new Uint8Array([i, i])) })
      expect(spy).toHaveBeenCalledTimes(1)
      expect(writes).toHaveLength(0)
    } finally {
      spy.mockRestore()
    }
    await tick()
    // one write each, in the order they queued, small chunks joined
    expect(writes.map(w => [...(w[0] ?? [])])).toEqual(writers.map((_, i) => [i, i, i]))
    expect(writers.every(w => w.writes === 1)).toBe(true)

    // the next run schedules again, and a writer queued from within the tick is written by it
    const late = new Writer(carrier, config, owner)
    const first = writers[0] as Writer
    const origWrite = carrier.write
    let chained = false
    carrier.write = (data: Uint8Array) => {
      if (!chained) { chained = true; late.push(new Uint8Array([99])) }
      return origWrite(data)
    }
    first.push(new Uint8Array([7]))
    await tick()
    expect(writes.slice(50).map(w => [...(w[0] ?? [])])).toEqual([[7], [99]])
  })

  it('a carrier that throws fails only its own connection: the shared tick goes on to the other writers, and nothing is thrown', async () => {
    const boom = new Error('carrier broke')
    const broken = { write: () => { throw boom }, writev: () => { throw boom }, end: () => {} } as unknown as Carrier
    const failed: Error[] = []
    const bad = new Writer(broken, config, { writeStalled: () => {}, writeFailed: (err) => { failed.push(err) } })
    const { carrier, writes } = recorder()
    const good = new Writer(carrier, config, owner)
    bad.push(new Uint8Array([1]))
    good.push(new Uint8Array([2]))
    await tick()
    expect(failed).toEqual([boom])
    expect(writes.map(w => [...(w[0] ?? [])])).toEqual([[2]])
    // nor from the other paths that flush: the end, the flush threshold
    bad.push(new Uint8Array([3]))
    expect(() => { bad.end() }).not.toThrow()
    expect(failed).toEqual([boom, boom])
  })

  it('refuses a chunk that is not bytes with InvalidParametersError and queues nothing', async () => {
    const { carrier, writes } = recorder()
    const w = new Writer(carrier, config, owner)
    for (const bad of ['text', 7, null, undefined, { byteLength: 1 }, [1], new Uint16Array(2)]) {
      expect(() => { w.push(bad as unknown as Uint8Array) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
    await tick()
    expect(writes).toEqual([])
    expect({ chunks: w.chunks, bytes: w.bytes }).toEqual({ chunks: 0, bytes: 0 })
  })

  it('after a failure drops what waits and refuses more', async () => {
    const { carrier, writes } = recorder()
    const w = new Writer(carrier, config, owner)
    w.push(new Uint8Array([1]))
    w.push(new Uint8Array([2]))
    const boom = new Error('gone')
    w.fail(boom)
    await tick()
    expect(writes).toHaveLength(0)
    expect(() => { w.push(new Uint8Array([3])) }).toThrow(boom)
  })
})
