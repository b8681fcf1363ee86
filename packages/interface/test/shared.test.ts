import { getEventListeners, on, once } from 'node:events'
import { describe, expect, it } from 'vitest'
import {
  asyncIteratorOf, createLogger, DONE, formatAddress, InvalidParametersError, isBatchIterator, isPushSource, iteratorOf, ProtocolVersionError, raceSignal, readUint32, readUint64, setLoggerFactory, settleSinkRun, sinkWatched, type Slot,
  slotAdd, slotEach, slotRemove, SourceError, tcpAddress, tellSinkEnd, toError, TypedEventTarget, validate, writeUint32, writeUint64
} from '../src/index.js'

describe('shared errors', () => {
  it('carry their name, message and cause', () => {
    const cause = new Error('root')
    const err = new InvalidParametersError('expected x', { cause })
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('InvalidParametersError')
    expect(InvalidParametersError.name).toBe('InvalidParametersError')
    expect(err.cause).toBe(cause)
    const version = new ProtocolVersionError('peer speaks 9', { version: 9, supported: 1 })
    expect(version.name).toBe('ProtocolVersionError')
    expect([version.version, version.supported]).toEqual([9, 1])
    expect(new ProtocolVersionError('no HELLO').version).toBeUndefined()
  })

  it('toError keeps errors and wraps anything else', () => {
    const e = new Error('x')
    expect(toError(e)).toBe(e)
    const wrapped = toError('text')
    expect(wrapped.message).toBe('text')
    expect(wrapped.cause).toBe('text')
    expect(new SourceError(e).error).toBe(e)
  })

  it('asyncIteratorOf / iteratorOf: a source that throws as its iterator is made fails at the first read instead', async () => {
    const boom = new Error('no iterator')
    const failing = asyncIteratorOf({ [Symbol.asyncIterator] () { throw boom } } as AsyncIterable<number>)
    await expect(failing.next()).rejects.toBe(boom)
    expect(() => iteratorOf({ [Symbol.iterator] () { throw boom } } as Iterable<number>).next()).toThrow(boom)
    const gen = (async function * () { yield 1 })()
    expect(asyncIteratorOf(gen)).toBe(gen)
    expect(iteratorOf([1, 2]).next()).toEqual({ done: false, value: 1 })
  })
})

describe('validators', () => {
  const { duration, integer, number, byte, oneOf, flag, fn, options, signal } = validate

  it('return the value or its default', () => {
    expect(duration('interval', undefined, 5)).toBe(5)
    expect(duration('interval', 1.5, 5)).toBe(1.5)
    expect(integer('max', 3, 1, { min: 1 })).toBe(3)
    expect(integer('max', Infinity, 1, { min: 1, infinity: true })).toBe(Infinity)
    expect(number('factor', 1.5, 2, { min: 1 })).toBe(1.5)
    expect(byte('type', undefined, 7)).toBe(7)
    expect(oneOf('overflow', undefined, ['wait', 'error'] as const, 'wait')).toBe('wait')
    expect(flag('hello', undefined, false)).toBe(false)
    const f = (): number => 1
    expect(fn('hook', f)).toBe(f)
    expect(fn('hook', undefined)).toBeUndefined()
    expect(options('init', undefined)).toEqual({})
  })

  it.each([
    [() => duration('interval', -1, 0), 'expected interval to be a number of milliseconds from 0 to 2147483647, but got -1'],
    [() => duration('timeout', 0, 1, { exclusiveMin: true }), 'expected timeout to be a number of milliseconds above 0 to 2147483647, but got 0'],
    [() => duration('delay', Infinity, 1), 'expected delay to be a number of milliseconds from 0 to 2147483647, but got Infinity'],
    [() => duration('delay', Number.NaN, 1), 'but got NaN'],
    [() => integer('max', 1.5, 1, { min: 1 }), 'expected max to be a whole number from 1 to 9007199254740991, but got 1.5'],
    [() => integer('max', Infinity, 1, { min: 1 }), 'but got Infinity'],
    [() => number('factor', 0.5, 2, { min: 1 }), 'expected factor to be a number from 1 to'],
    [() => byte('type', 256, 0), 'expected type to be a whole number from 0 to 255, but got 256'],
    [() => oneOf('overflow', 'drop' as 'wait', ['wait', 'error'], 'wait'), "expected overflow to be one of 'wait', 'error', but got 'drop'"],
    [() => flag('hello', 'yes' as unknown as boolean, false), "expected hello to be true or false, but got 'yes'"],
    [() => fn('hook', 3 as unknown as () => void), 'expected hook to be a function, but got 3'],
    [() => options('init', 3 as unknown as object), 'expected init to be an object of options, but got 3'],
    [() => signal('signal', {} as AbortSignal), 'expected signal to be an AbortSignal, but got an object']
  ])('refuse bad values with one message shape (%#)', (check, message) => {
    expect(check).toThrow(InvalidParametersError)
    expect(check).toThrow(message)
  })

  it.each([
    [() => duration('interval', null as never, 5), 'expected interval to be a number of milliseconds from 0 to 2147483647, but got null'],
    [() => integer('max', null as never, 1), 'expected max to be a whole number from 0 to 9007199254740991, but got null'],
    [() => number('factor', null as never, 2), 'expected factor to be a number from 0 to'],
    [() => byte('type', null as never, 7), 'expected type to be a whole number from 0 to 255, but got null'],
    [() => oneOf('overflow', null as never, ['wait', 'error'] as const, 'wait'), "expected overflow to be one of 'wait', 'error', but got null"],
    [() => flag('hello', null as never, false), 'expected hello to be true or false, but got null'],
    [() => fn('hook', null as never, () => 1), 'expected hook to be a function, but got null'],
    [() => options('init', null as never), 'expected init to be an object of options, but got null']
  ])('refuse null: only undefined is absent (%#)', (check, message) => {
    expect(check).toThrow(InvalidParametersError)
    expect(check).toThrow(message)
  })
})

describe('validate.duplex', () => {
  const source = { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true as const, value: undefined }) }) }

  it('takes an object with an async iterable source and a sink function; refuses anything else, typed, naming the part', () => {
    expect(() => { validate.duplex('lower', { source, sink: async () => {} }) }).not.toThrow()
    for (const [value, message] of [
      [null, 'expected lower to be a duplex: an object with a source and a sink'],
      ['conn', 'expected lower to be a duplex'],
      [{ sink: async () => {} }, 'expected lower.source to be an async iterable'],
      [{ source: [1], sink: async () => {} }, 'expected lower.source to be an async iterable'],
      [{ source }, 'expected lower.sink to be a function taking a source'],
      [{ source, sink: 'write' }, 'expected lower.sink to be a function taking a source']
    ] as const) {
      expect(() => { validate.duplex('lower', value) }).toThrow(InvalidParametersError)
      expect(() => { validate.duplex('lower', value) }).toThrow(message)
    }
  })

  it('does not read the sink of a duplex written through sinkPush: a stage makes its sink on first read and keeps it', () => {
    let reads = 0
    const stage = {
      source,
      sinkPush: () => {},
      get sink () {
        reads++
        return async () => {}
      }
    }
    validate.duplex('lower', stage)
    expect(reads).toBe(0)
    validate.duplex('lower', { source, get sink () { reads++; return async () => {} } })
    expect(reads).toBe(1)
  })
})

describe('TypedEventTarget', () => {
  interface Events { up: { attempt: number }, close: undefined }

  it('is a real EventTarget: CustomEvent details, once, signal, events.once and events.on', async () => {
    const target = new TypedEventTarget<Events>()
    expect(target).toBeInstanceOf(EventTarget)
    const seen: number[] = []
    target.addEventListener('up', (e) => { seen.push(e.detail.attempt) })
    target.addEventListener('up', (e) => { seen.push(-e.detail.attempt) }, { once: true })
    const controller = new AbortController()
    target.addEventListener('up', () => { seen.push(100) }, { signal: controller.signal })
    expect(target.listenerCount('up')).toBe(3)
    target.safeDispatchEvent('up', { attempt: 1 })
    controller.abort()
    expect(target.listenerCount('up')).toBe(1)
    target.safeDispatchEvent('up', { attempt: 2 })
    expect(seen).toEqual([1, -1, 100, 2])

    setImmediate(() => target.safeDispatchEvent('close', undefined))
    const [event] = await once(target, 'close') as [CustomEvent<undefined>]
    expect(event.type).toBe('close')

    const stop = new AbortController()
    setImmediate(() => {
      target.safeDispatchEvent('up', { attempt: 3 })
      target.safeDispatchEvent('up', { attempt: 4 })
      setImmediate(() => { stop.abort() })
    })
    const attempts: number[] = []
    await expect((async () => {
      for await (const [e] of on(target, 'up', { signal: stop.signal }) as AsyncIterable<[CustomEvent<Events['up']>]>) attempts.push(e.detail.attempt)
    })()).rejects.toThrow(/abort/i)
    expect(attempts).toEqual([3, 4])
  })

  it('builds no event when nobody listens', () => {
    const target = new TypedEventTarget<Events>()
    let built = 0
    const dispatch = target.dispatchEvent.bind(target)
    target.dispatchEvent = (e) => { built++; return dispatch(e) }
    expect(target.safeDispatchEvent('up', { attempt: 1 })).toBe(false)
    expect(built).toBe(0)
  })

  it('hasListeners follows listeners added, removed, fired once and aborted, and asks nothing of a type never listened to', () => {
    const target = new TypedEventTarget<Events>()
    expect(target.hasListeners('up')).toBe(false)
    const fn = (): void => {}
    target.addEventListener('up', fn)
    expect(target.hasListeners('up')).toBe(true)
    expect(target.hasListeners('close')).toBe(false)
    target.removeEventListener('up', fn)
    expect(target.hasListeners('up')).toBe(false)
    target.addEventListener('up', fn, { once: true })
    target.safeDispatchEvent('up', { attempt: 1 })
    expect(target.hasListeners('up')).toBe(false)
    const controller = new AbortController()
    target.addEventListener('close', fn, { signal: controller.signal })
    expect(target.hasListeners('close')).toBe(true)
    controller.abort()
    expect(target.hasListeners('close')).toBe(false)
    expect(target.listenerCount('close')).toBe(0)
    // events.once() listens through addEventListener as well
    void once(target, 'close')
    expect(target.hasListeners('close')).toBe(true)
    expect(target.safeDispatchEvent('close', undefined)).toBe(true)
  })

  it('hasListeners and listenerCount keep every type apart, whichever order they were first listened to in', () => {
    const target = new TypedEventTarget<Events & { other: undefined }>()
    const fn = (): void => {}
    target.addEventListener('close', fn)
    target.addEventListener('up', fn)
    target.addEventListener('up', () => {})
    target.addEventListener('close', () => {}) // a type listened to before is not added twice
    target.addEventListener('other', fn)
    expect([target.listenerCount('close'), target.listenerCount('up'), target.listenerCount('other')]).toEqual([2, 2, 1])
    target.removeEventListener('up', fn)
    expect([target.hasListeners('close'), target.hasListeners('up'), target.hasListeners('other')]).toEqual([true, true, true])
    target.removeEventListener('other', fn)
    expect(target.hasListeners('other')).toBe(false)
    expect(target.listenerCount('up')).toBe(1)
  })

  it('targets without listeners share one empty store; the first listener gives a target its own, seen by no other', () => {
    const maps = (t: EventTarget): unknown[] => {
      const fields = t as unknown as Record<symbol, unknown>
      return Object.getOwnPropertySymbols(t).map(s => fields[s]).filter(v => typeof (v as Map<unknown, unknown> | undefined)?.get === 'function')
    }
    const a = new TypedEventTarget<Events>()
    const b = new TypedEventTarget<Events>()
    const [shared] = maps(a)
    expect(shared).toBeDefined()
    expect(maps(a).every(m => m === shared)).toBe(true)
    expect(maps(b).every(m => m === shared)).toBe(true)
    // nothing listens yet: a dispatch, a removal and a listener query all see an empty store
    expect(a.dispatchEvent(new CustomEvent('up', { detail: { attempt: 0 } }))).toBe(true)
    a.removeEventListener('up', () => {})
    expect(getEventListeners(a, 'up')).toEqual([])

    const seen: string[] = []
    a.addEventListener('up', () => { seen.push('a') })
    expect(maps(a).filter(m => m !== shared)).toHaveLength(1)
    expect(maps(b).every(m => m === shared)).toBe(true)
    b.safeDispatchEvent('up', { attempt: 1 })
    a.safeDispatchEvent('up', { attempt: 2 })
    expect(seen).toEqual(['a'])
    expect(b.listenerCount('up')).toBe(0)
    expect(new TypedEventTarget<Events>().listenerCount('up')).toBe(0)
  })

  it('a listener added past the override is refused with a clear error instead of reaching every target', () => {
    const target = new TypedEventTarget<Events>()
    const other = new TypedEventTarget<Events>()
    expect(() => { EventTarget.prototype.addEventListener.call(target, 'up', () => {}) }).toThrow(/addEventListener\(\) of the target itself/)
    expect(other.listenerCount('up')).toBe(0)
    // once it has its own store, the plain method works on it as on any EventTarget
    target.addEventListener('close', () => {})
    let calls = 0
    EventTarget.prototype.addEventListener.call(target, 'up', () => { calls++ })
    target.dispatchEvent(new CustomEvent('up', { detail: { attempt: 1 } }))
    expect(calls).toBe(1)
    expect(other.listenerCount('up')).toBe(0)
  })

  it('a throwing listener does not stop the others; its error surfaces as an uncaught exception', async () => {
    const target = new TypedEventTarget<Events>()
    const ran: string[] = []
    target.addEventListener('up', () => { throw new Error('listener bug') })
    target.addEventListener('up', () => { ran.push('second') })
    const uncaught = new Promise<Error>((resolve) => { process.once('uncaughtException', resolve) })
    const listeners = process.listeners('uncaughtException')
    // vitest installs its own handler; keep ours alone for this one error
    for (const l of listeners) if (l !== listeners[listeners.length - 1]) process.off('uncaughtException', l)
    try {
      target.safeDispatchEvent('up', { attempt: 1 })
      expect(ran).toEqual(['second'])
      expect((await uncaught).message).toBe('listener bug')
    } finally {
      for (const l of listeners.slice(0, -1)) process.on('uncaughtException', l)
    }
  })
})

describe('bytes, batches and addresses', () => {
  it('reads and writes 32- and 64-bit integers both ways', () => {
    const buf = new Uint8Array(8)
    expect(writeUint32(buf, 0, 0xDEADBEEF)).toBe(4)
    expect([...buf.subarray(0, 4)]).toEqual([0xDE, 0xAD, 0xBE, 0xEF])
    expect(readUint32(buf, 0)).toBe(0xDEADBEEF)
    writeUint32(buf, 4, 0x01020304, true)
    expect([...buf.subarray(4)]).toEqual([4, 3, 2, 1])
    expect(readUint32(buf, 4, true)).toBe(0x01020304)
    for (const value of [0, 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
      for (const little of [false, true]) {
        const b = new Uint8Array(8)
        expect(writeUint64(b, 0, value, little)).toBe(8)
        expect(readUint64(b, 0, little)).toBe(value)
      }
    }
    const be = new Uint8Array(8)
    writeUint64(be, 0, 2 ** 32 + 1)
    expect([...be]).toEqual([0, 0, 0, 1, 0, 0, 0, 1])
  })

  it('tells batch iterators apart and shares one frozen DONE', () => {
    const batching: AsyncIterator<number> = Object.assign({ next: async () => DONE }, { nextBatch: async () => undefined })
    expect(isBatchIterator(batching)).toBe(true)
    expect(isBatchIterator([][Symbol.iterator]())).toBe(false)
    expect(Object.isFrozen(DONE)).toBe(true)
  })

  it('tells push sources apart: subscribe() and resume() both needed', () => {
    const push = { subscribe: () => {}, resume: () => {}, next: async () => DONE }
    expect(isPushSource(push)).toBe(true)
    expect(isPushSource({ subscribe: () => {} })).toBe(false)
    expect(isPushSource([][Symbol.iterator]())).toBe(false)
    expect(isPushSource(undefined)).toBe(false)
  })

  it('maps Node addresses and formats them', () => {
    expect(tcpAddress('IPv6', '::1', 80)).toEqual({ family: 'IPv6', address: '::1', port: 80 })
    expect(tcpAddress(4, '127.0.0.1', 80)).toEqual({ family: 'IPv4', address: '127.0.0.1', port: 80 })
    expect(tcpAddress(undefined, undefined, 80)).toBeUndefined()
    expect(formatAddress({ family: 'IPv6', address: '::1', port: 80 })).toBe('[::1]:80')
    expect(formatAddress({ family: 'IPv4', address: '127.0.0.1', port: 7 })).toBe('127.0.0.1:7')
    expect(formatAddress({ family: 'unix', path: '/tmp/s' })).toBe('/tmp/s')
    expect(formatAddress(undefined)).toBe('unknown')
  })
})

describe('sinkWatched', () => {
  const source = {
    subscribe: () => {},
    resume: () => {},
    [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true as const, value: undefined }) })
  }

  it('uses sinkPush where the duplex has it, and sink() otherwise, telling the watcher its outcome, never synchronously', async () => {
    const told: Array<Error | undefined> = []
    const watcher = { onSinkEnd: (err?: Error) => { told.push(err) } }
    let pushed: unknown
    const pushable = { sink: async () => { throw new Error('expected sinkPush') }, sinkPush: (_s: unknown, w: unknown) => { pushed = w } }
    sinkWatched(pushable, source, watcher)
    expect(pushed).toBe(watcher)

    sinkWatched({ sink: async () => {} }, source, watcher)
    sinkWatched({ sink: async () => { throw new Error('rejected') } }, source, watcher)
    sinkWatched({ sink: () => { throw new Error('thrown') } }, source, watcher)
    sinkWatched({ sink: async () => { throw 'not an error' } }, source, watcher)
    expect(told).toEqual([])
    await new Promise(resolve => setImmediate(resolve))
    expect(told.map(e => e?.message)).toEqual([undefined, 'rejected', 'thrown', 'not an error'])
    expect(told.every(e => e === undefined || e instanceof Error)).toBe(true)
  })

  it('tells the watcher a sinkPush that throws, and takes a sink that returns no promise', async () => {
    const told: Array<Error | undefined> = []
    const watcher = { onSinkEnd: (err?: Error) => { told.push(err) } }
    const refusing = { sink: async () => {}, sinkPush: () => { throw new Error('refused') } }
    sinkWatched(refusing, source, watcher)
    sinkWatched({ sink: (() => undefined) as unknown as () => Promise<void> }, source, watcher)
    expect(told).toEqual([])
    await new Promise(resolve => setImmediate(resolve))
    expect(told.map(e => e?.message)).toEqual(['refused', undefined])
  })
})

describe('settleSinkRun', () => {
  it("settles the sink's promise at once and tells its watcher from a microtask, either present or not", async () => {
    const run = { resolved: 0, rejected: [] as Error[], resolve () { run.resolved++ }, reject (err: Error) { run.rejected.push(err) } }
    const told: Array<Error | undefined> = []
    const watcher = { onSinkEnd: (err?: Error) => { told.push(err) } }
    const boom = new Error('reset')
    settleSinkRun(run, undefined)
    settleSinkRun(run, watcher, boom)
    settleSinkRun(undefined, watcher)
    expect(run).toMatchObject({ resolved: 1, rejected: [boom] })
    expect(told).toEqual([])
    await Promise.resolve()
    expect(told).toEqual([boom, undefined])
  })
})

describe('tellSinkEnd', () => {
  it('tells the watcher once, from a microtask', async () => {
    const told: Array<Error | undefined> = []
    const watcher = { onSinkEnd: (err?: Error) => { told.push(err) } }
    const boom = new Error('boom')
    tellSinkEnd(watcher)
    tellSinkEnd(watcher, boom)
    expect(told).toEqual([])
    await Promise.resolve()
    expect(told).toEqual([undefined, boom])
  })
})

describe('slots: none, one item, or an array only from the second', () => {
  it('adds, removes and calls in order; a single item is kept without an array', () => {
    const a = (): void => {}
    const b = (): void => {}
    const c = (): void => {}
    let slot: Slot<() => void>
    slot = slotAdd(slot, a)
    expect(slot).toBe(a)
    slot = slotAdd(slot, b)
    slot = slotAdd(slot, c)
    expect(slot).toEqual([a, b, c])
    slot = slotRemove(slot, b)
    slot = slotRemove(slot, b) // not there: nothing changes
    const seen: Array<() => void> = []
    slotEach(slot, (fn) => { seen.push(fn) })
    expect(seen).toEqual([a, c])
    expect(slotRemove(a, a)).toBeUndefined()
    expect(slotRemove(a, b)).toBe(a)
    slotEach(undefined, () => { throw new Error('never called') })
  })
})

describe('robustness of the shared helpers', () => {
  it('raceSignal() with a signal aborted already rejects with its reason, and a later rejection of the promise is not left unhandled', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown): void => { unhandled.push(err) }
    process.on('unhandledRejection', onUnhandled)
    try {
      const reason = new Error('gone')
      let fail!: (err: Error) => void
      const promise = new Promise<never>((_resolve, reject) => { fail = reject })
      await expect(raceSignal(promise, AbortSignal.abort(reason))).rejects.toBe(reason)
      fail(new Error('later'))
      await new Promise(resolve => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('toError() returns an Error for any thrown value, also one that cannot be shown as text', () => {
    const bare = Object.create(null) as object
    const hostile = { toString (): string { throw new Error('no') } }
    for (const value of [bare, hostile, 5n, Symbol('s'), undefined]) {
      const err = toError(value)
      expect(err).toBeInstanceOf(Error)
      expect(err.cause).toBe(value)
    }
  })

  it('setLoggerFactory() refuses what is not a function at once, and createLogger() still works after', () => {
    expect(() => { setLoggerFactory({ debug () {} } as never) }).toThrow(InvalidParametersError)
    expect(() => createLogger('codec')).not.toThrow()
  })

  it('a bigint that is refused is shown as one in the message', () => {
    expect(() => validate.integer('maxItems', 5n as never, 1024, { min: 1 })).toThrow('but got the bigint 5n')
  })
})
