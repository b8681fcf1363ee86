import { getEventListeners, setMaxListeners } from 'node:events'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it, vi } from 'vitest'
import { onAbortOf, raceSignal, systemTimers, toUint8Array } from '../src/index.js'

describe('raceSignal', () => {
  it('rejects with the signal\'s reason and removes its listener', async () => {
    const controller = new AbortController()
    const add = vi.spyOn(controller.signal, 'addEventListener')
    const remove = vi.spyOn(controller.signal, 'removeEventListener')
    const pending = raceSignal(new Promise(() => {}), controller.signal)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0][1])
  })

  it('resolves with the promise and removes its listener; rejects at once on an aborted signal', async () => {
    const controller = new AbortController()
    const remove = vi.spyOn(controller.signal, 'removeEventListener')
    expect(await raceSignal(Promise.resolve(7), controller.signal)).toBe(7)
    expect(remove).toHaveBeenCalledTimes(1)
    await expect(raceSignal(Promise.resolve(1), AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
  })
})

describe('onAbortOf', () => {
  /** Warnings Node emits while `run` adds listeners (they are emitted on a later tick). */
  async function warningsDuring (run: () => void): Promise<Error[]> {
    const seen: Error[] = []
    const onWarning = (w: Error): void => { seen.push(w) }
    process.on('warning', onWarning)
    try {
      run()
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    return seen
  }

  it('lets many owners share one signal without a leak warning, and each removes its own listener', async () => {
    const controller = new AbortController()
    const fired: number[] = []
    let removers: Array<() => void> = []
    const warnings = await warningsDuring(() => {
      removers = Array.from({ length: 50 }, (_, i) => onAbortOf(controller.signal, () => { fired.push(i) }))
    })
    expect(warnings.map(w => w.name)).not.toContain('MaxListenersExceededWarning')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(50)
    for (const remove of removers.slice(10)) remove()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(10)
    controller.abort()
    expect(fired).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('keeps a limit the application chose', () => {
    const controller = new AbortController()
    setMaxListeners(3, controller.signal)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {}) // expected: kept off the test output
    try {
      for (let i = 0; i < 4; i++) onAbortOf(controller.signal, () => {})
      expect(warn.mock.calls.map(([w]) => (w as Error).name)).toContain('MaxListenersExceededWarning')
    } finally {
      warn.mockRestore()
    }
  })
})

describe('bytes and timers', () => {
  it('turns a list into one view, copying only when it spans buffers', () => {
    const one = Uint8Array.of(1, 2)
    expect(toUint8Array(one)).toBe(one)
    expect(toUint8Array(new Uint8ArrayList(Uint8Array.of(1), Uint8Array.of(2)))).toEqual(Uint8Array.of(1, 2))
  })

  it('schedules through the global setTimeout at call time, so fake timers apply, and cancels', () => {
    vi.useFakeTimers()
    try {
      const fired: number[] = []
      systemTimers.setTimeout(() => fired.push(1), 100)
      const cancelled = systemTimers.setTimeout(() => fired.push(2), 100)
      cancelled.cancel()
      vi.advanceTimersByTime(100)
      expect(fired).toEqual([1])
    } finally {
      vi.useRealTimers()
    }
  })
})
