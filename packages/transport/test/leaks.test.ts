import { getEventListeners } from 'node:events'
import { join } from 'node:path'
import type { Timers } from '@proto/interface'
import { systemTimers } from '@proto/interface'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { pipe } from 'it-pipe'
import { describe, expect, it } from 'vitest'
import type { ConnectInit, ListenInit } from '../src/index.js'
import { connect, listen, memoryPair } from '../src/index.js'
import { portOf, readAll, tempDir } from './helpers.js'

const CYCLES = 1_000

/**
 * Node's timers wrapped to count the ones still pending. The SDK unrefs its timers, and
 * `getActiveResourcesInfo()` does not list unref'd timers, so they are counted here instead.
 */
function countingTimers (): Timers & { pending(): number } {
  const live = new Set<object>()
  return {
    setTimeout (fn, ms) {
      const token = {}
      live.add(token)
      const handle = systemTimers.setTimeout(() => { live.delete(token); fn() }, ms)
      return { cancel: () => { live.delete(token); handle.cancel() } }
    },
    pending: () => live.size
  }
}

async function cycles (listenInit: ListenInit, target: (port: number) => ConnectInit): Promise<void> {
  const before = resourceSnapshot()
  const timers = countingTimers()
  const server = await listen({ ...listenInit, idleTimeout: 60_000, timers }, async (conn) => { await pipe(conn, conn) })
  const disconnects: string[] = []
  server.addEventListener('disconnect', ({ detail }) => { disconnects.push(detail.info.reason) })
  const port = server.address.family === 'unix' ? 0 : portOf(server)
  const shared = new AbortController()
  const payload = new Uint8Array(1024).fill(3)
  for (let i = 0; i < CYCLES; i++) {
    const conn = await connect({ ...target(port), timers }, { signal: shared.signal })
    const [, echoed] = await Promise.all([conn.sink([payload]), readAll(conn)])
    expect(echoed.byteLength).toBe(1024)
    await conn.close({ signal: shared.signal })
    expect((await conn.closed).reason).toBe('closed')
  }
  await server.close({ deadline: 1_000 })
  expect(disconnects.length).toBe(CYCLES)
  expect(new Set(disconnects)).toEqual(new Set(['closed']))
  expect(server.connections.size).toBe(0)
  // No listener left on a signal shared by every connect() and close().
  expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0)
  expect(await waitForResources(before, 3_000)).toEqual([])
  expect(timers.pending()).toBe(0)
}

describe('leaks', () => {
  it(`${CYCLES} TCP connect/transfer/close cycles leave no sockets, timers or listeners`, async () => {
    await cycles({ host: '127.0.0.1', port: 0 }, port => ({ host: '127.0.0.1', port }))
  }, 60_000)

  it(`${CYCLES} Unix-socket cycles leave nothing behind`, async () => {
    const tmp = tempDir()
    const path = join(tmp.dir, 'leak.sock')
    try {
      await cycles({ path }, () => ({ path }))
    } finally {
      tmp.remove()
    }
  }, 60_000)

  it(`${CYCLES} memoryPair cycles leave nothing behind`, async () => {
    const before = resourceSnapshot()
    for (let i = 0; i < CYCLES; i++) {
      const [a, b] = memoryPair()
      const echo = pipe(b, b)
      const [, got] = await Promise.all([a.sink([new Uint8Array(100)]), readAll(a)])
      expect(got.byteLength).toBe(100)
      await echo
      await Promise.all([a.close(), b.close()])
      expect((await a.closed).reason).toBe('closed')
    }
    expect(await waitForResources(before, 2_000)).toEqual([])
  })
})
