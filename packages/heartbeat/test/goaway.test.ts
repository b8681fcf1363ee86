import { decodeGoAway, encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HeartbeatDuplex, HeartbeatEvents } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, forever, rawPeer, settle } from './helpers/raw-peer.js'

const init = { interval: 60_000, timeout: 120_000 }
const goAway = (code: number, reason = ''): ReturnType<typeof f> => f(FrameType.GOAWAY, encodeGoAway({ code, reason }))
const text = (body: Uint8Array): string => new TextDecoder().decode(body)

async function readAll (hb: HeartbeatDuplex): Promise<{ got: string[], error?: any }> {
  const got: string[] = []
  const r = await settle((async () => { for await (const x of hb.source) got.push(text(x.body)) })())
  return { got, error: r.error }
}

// `true`: the lower has only a `goingAway` signal; `'watch'`: it can be watched too (a server connection), and
// the stage must then learn of going away without making the signal
describe.each([true, 'watch'] as const)('goingAway (%s): the owner asks the connection to end gracefully', (kind) => {
  let stage: HeartbeatDuplex | undefined

  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    stage?.abort(new Error('test over'))
    stage = undefined
    vi.useRealTimers()
  })

  it('sends GOAWAY SHUTTING_DOWN, then every frame its sink had taken, then FIN; reading goes on until the peer ends', async () => {
    const peer = rawPeer({ goingAway: kind, batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    peer.holdWrites()
    // ten frames, the first at once and the rest a millisecond apart, then nothing more, ever (an idle
    // producer); return() tells it to stop
    let taken = 0
    let stopped = false
    const producer: AsyncIterableIterator<ReturnType<typeof f>> = {
      [Symbol.asyncIterator]: () => producer,
      next: async () => {
        if (taken > 0) await new Promise(resolve => setTimeout(resolve, 1))
        return taken < 10 ? { done: false, value: f(FrameType.DATA, `r${taken++}`) } : await new Promise(() => {})
      },
      return: async () => { stopped = true; return { done: true, value: undefined } }
    }
    const sinking = settle(hb.sink(producer))
    await vi.advanceTimersByTimeAsync(10) // the frames wait behind the busy writer
    peer.goAway()
    await vi.advanceTimersByTimeAsync(0)
    peer.releaseWrites()
    await vi.advanceTimersByTimeAsync(10)
    // the first frame went to the writer that was waiting; the GOAWAY goes ahead of the rest
    expect(peer.written.map(x => x.type)).toEqual([FrameType.DATA, FrameType.GOAWAY, ...Array(9).fill(FrameType.DATA)])
    expect(decodeGoAway(peer.written[1].body)).toEqual({ code: GoAwayCode.SHUTTING_DOWN, reason: 'going_away' })
    expect(peer.written.filter(x => x.type === FrameType.DATA).map(x => text(x.body))).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`))
    expect(taken).toBe(10)
    expect(stopped).toBe(true) // the idle producer was told to stop
    expect(peer.sinkEnded).toBe(true) // FIN
    expect(await sinking).toEqual({ ok: true })
    expect(hb.stats().unsentFrames).toBe(0)
    // the peer's last frames still arrive
    const reading = readAll(hb)
    peer.send(f(FrameType.DATA, 'in flight'))
    peer.end()
    expect(await reading).toEqual({ got: ['in flight'], error: undefined })
    expect(peer.aborted).toBeUndefined()
    expect(peer.signalReads).toBe(0) // watched: no signal was made
    expect(hb.goingAway).toBe(peer.lower.goingAway) // forwarded upwards, when asked for
    expect(hb.goingAway?.aborted).toBe(true)
  })

  it('stops watching the lower when the stage ends; the signal is made only for a user who reads it', async () => {
    const peer = rawPeer({ goingAway: kind })
    const hb = heartbeat(peer.lower, init)
    expect(peer.goingAwayWatchers.size).toBe(kind === 'watch' ? 1 : 0)
    expect(peer.signalReads).toBe(0)
    hb.abort(new Error('done'))
    await vi.advanceTimersByTimeAsync(0)
    expect(peer.goingAwayWatchers.size).toBe(0)
    expect(peer.signalReads).toBe(0)
    // a later going away reaches nobody: nothing is written after the end
    peer.goAway()
    await vi.advanceTimersByTimeAsync(1)
    expect(peer.written.map(x => x.type)).not.toContain(FrameType.GOAWAY)
  })

  it('counts a frame its source gives after writing ended as unsent', async () => {
    const peer = rawPeer({ goingAway: kind })
    const hb = stage = heartbeat(peer.lower, init)
    let give: ((r: IteratorResult<ReturnType<typeof f>>) => void) | undefined
    const producer: AsyncIterableIterator<ReturnType<typeof f>> = {
      [Symbol.asyncIterator]: () => producer,
      next: async () => await new Promise((resolve) => { give = resolve }),
      return: async () => ({ done: true, value: undefined })
    }
    void settle(hb.sink(producer))
    await vi.advanceTimersByTimeAsync(0)
    peer.goAway()
    await vi.advanceTimersByTimeAsync(1)
    expect(peer.sinkEnded).toBe(true)
    give?.({ done: false, value: f(FrameType.DATA, 'too late') })
    await vi.advanceTimersByTimeAsync(0)
    expect(hb.stats().unsentFrames).toBe(1)
    expect(peer.written.map(x => x.type)).toEqual([FrameType.GOAWAY])
  })

  it('an idle connection gets GOAWAY and FIN at once, with or without a sink', async () => {
    for (const withSink of [false, true]) {
      const peer = rawPeer({ goingAway: kind })
      const hb = heartbeat(peer.lower, init)
      if (withSink) void settle(hb.sink(forever()))
      const closed: Array<HeartbeatEvents['closed']> = []
      on(hb, 'closed', e => closed.push(e))
      peer.goAway()
      await vi.advanceTimersByTimeAsync(1)
      expect(peer.written.map(x => x.type)).toEqual([FrameType.GOAWAY])
      expect(peer.sinkEnded).toBe(true)
      expect((await settle(hb.sink([]))).error?.name).toBe('InvalidParametersError')
      peer.end() // the peer follows
      await vi.advanceTimersByTimeAsync(0)
      expect(closed).toEqual([{ error: undefined }])
      expect(vi.getTimerCount()).toBe(0)
    }
  })

  it('without a GOAWAY in the format it only flushes and ends', async () => {
    const peer = rawPeer({ goingAway: kind })
    stage = heartbeat(peer.lower, { ...init, goAwayType: null })
    void settle(stage.sink([f(FrameType.DATA, 'x')]))
    peer.goAway()
    await vi.advanceTimersByTimeAsync(1)
    expect(peer.written.map(x => text(x.body))).toEqual(['x'])
    expect(peer.sinkEnded).toBe(true)
  })

  it('reacts when goingAway was aborted before the stage started', async () => {
    const peer = rawPeer({ goingAway: kind })
    peer.goAway()
    stage = heartbeat(peer.lower, init)
    await vi.advanceTimersByTimeAsync(1)
    expect(peer.written.map(x => x.type)).toEqual([FrameType.GOAWAY])
    expect(peer.sinkEnded).toBe(true)
    expect(peer.signalReads).toBe(0)
  })
})

describe('GOAWAY from the peer', () => {
  it('is reported (event, stats) and ends the source with GoAwayError after the data that followed it', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    const seen: Array<HeartbeatEvents['goaway']> = []
    on(hb, 'goaway', e => seen.push(e))
    peer.send(f(FrameType.DATA, 'a'), goAway(GoAwayCode.SHUTTING_DOWN, 'restart'), f(FrameType.DATA, 'b'))
    peer.end()
    const { got, error } = await readAll(hb)
    expect(got).toEqual(['a', 'b']) // the GOAWAY itself is the stage's, not the application's
    expect(error?.name).toBe('GoAwayError')
    expect(error).toMatchObject({ code: GoAwayCode.SHUTTING_DOWN, reason: 'restart', final: false })
    expect(seen).toEqual([{ code: GoAwayCode.SHUTTING_DOWN, reason: 'restart', final: false }])
    expect(hb.stats().goAway).toEqual({ code: GoAwayCode.SHUTTING_DOWN, reason: 'restart' })
    hb.abort(new Error('done'))
  })

  it('tells "do not retry" apart: DO_NOT_RETRY is final', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.send(goAway(GoAwayCode.DO_NOT_RETRY, 'banned'))
    peer.end()
    const { error } = await readAll(hb)
    expect(error).toMatchObject({ name: 'GoAwayError', code: GoAwayCode.DO_NOT_RETRY, final: true })
    expect(error.message).toContain('do not reconnect')
    hb.abort(new Error('done'))
  })

  it('NORMAL and unknown codes end the source cleanly', async () => {
    for (const code of [GoAwayCode.NORMAL, 999]) {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, init)
      peer.send(goAway(code, 'bye'), f(FrameType.DATA, 'last'))
      peer.end()
      expect(await readAll(hb)).toEqual({ got: ['last'], error: undefined })
      expect(hb.stats().goAway?.code).toBe(code)
      hb.abort(new Error('done'))
    }
  })

  it('a reset after GOAWAY still carries the code, with the reset as cause', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.send(goAway(GoAwayCode.SHUTTING_DOWN))
    await new Promise(resolve => setImmediate(resolve))
    const reset = new Error('ECONNRESET')
    peer.fail(reset)
    const { error } = await readAll(hb)
    expect(error).toMatchObject({ name: 'GoAwayError', code: GoAwayCode.SHUTTING_DOWN })
    expect(error.cause).toBe(reset)
  })

  it('a malformed GOAWAY is a protocol violation', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.send(f(FrameType.GOAWAY, new Uint8Array([1])))
    const { error } = await readAll(hb)
    expect(error?.name).toBe('ProtocolViolationError')
    expect(error.cause?.name).toBe('InvalidControlFrameError')
  })

  it('with goAwayType null, type 0x04 is plain data', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { ...init, goAwayType: null })
    peer.send(f(FrameType.GOAWAY, 'not a goaway'))
    peer.end()
    expect(await readAll(hb)).toEqual({ got: ['not a goaway'], error: undefined })
  })
})
