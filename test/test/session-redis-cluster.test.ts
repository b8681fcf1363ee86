import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SessionDuplex } from '@proto/session'
import { runCluster } from '@proto/session-redis'
import { canRun, freePort, redisServerTool, startRedisServer } from '@proto/stage-compliance'
import { afterEach, describe, expect, it } from 'vitest'
import { clientTo, EXEC_ARGV, NODE_SCRIPT, numbered, readLedgers, ROOT, text } from '../src/redis/index.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

interface Member { client: SessionDuplex, got: Map<string, number>, done: Promise<unknown> }

/** Client `k` writes `c<k>.1`…`c<k>.<n>` (paced) and counts the answers it receives. */
function member (port: number, k: number, n: number, pace: (written: number) => Promise<void>): Member {
  let written = 0
  const client = clientTo({ port })
  const got = new Map<string, number>()
  const reading = (async () => {
    for await (const f of client.source) {
      const t = text(f)
      got.set(t, (got.get(t) ?? 0) + 1)
      if (t === `s${k}.${n}`) break
    }
  })()
  const writing = client.sink(numbered(1, n, async () => { written += 20; await pace(written) }, `c${k}.`))
  return { client, got, done: Promise.all([reading, writing]) }
}

describe.runIf(canRun(redisServerTool))('N server processes on one port (node:cluster) sharing a Redis store', () => {
  it('clients spread over two workers; a worker SIGTERMed drains exactly once to the other, a worker SIGKILLed is recovered at-least-once, counted', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const dir = mkdtempSync(join(tmpdir(), 'proto-ledger-'))
    cleanups.push(() => { rmSync(dir, { recursive: true, force: true }) })
    const port = await freePort()
    const cluster = await runCluster({ workers: 2, script: NODE_SCRIPT, execArgv: EXEC_ARGV, cwd: ROOT, env: { REDIS_URL: redis.url, PORT: String(port), NODE_NAME: 'w', LEDGER_DIR: dir } })
    cleanups.push(async () => { await cluster.close(2_000) })
    expect(cluster.workers.map(w => w?.info.port)).toEqual([port, port])

    const K = 6
    const N = 600
    let phase = 0
    const progress = (): number => Math.min(...members.map(m => m.got.size))
    // every client holds at a third and at two thirds of its items until the phase moved on, so each
    // stop happens with every client mid-run
    const gates = [N / 3, (2 * N) / 3]
    const pace = async (written: number): Promise<void> => {
      await new Promise(resolve => setTimeout(resolve, 2))
      for (const [g, at] of gates.entries()) {
        if (written >= at) await expect.poll(() => phase > g, { timeout: 20_000 }).toBe(true)
      }
    }
    const members: Member[] = Array.from({ length: K }, (_, k) => member(port, k, N, pace))
    cleanups.push(async () => { await Promise.all(members.map(async m => await m.client.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {}))) })

    // phase 1: a graceful stop of worker 0 (SIGTERM: it hands its sessions to the store, clients resume on worker 1)
    await expect.poll(progress, { timeout: 10_000 }).toBeGreaterThanOrEqual(N / 3 - 20)
    const w0 = cluster.workers[0]
    const resumedBefore = members.reduce((n, m) => n + m.client.stats().resumes, 0)
    const term = await cluster.kill(0, 'SIGTERM')
    expect(term.code).toBe(0)
    phase = 1
    const drained = (w0?.messages.find(m => (m as { type?: string }).type === 'drained') as { sessions: number } | undefined)?.sessions ?? 0
    expect(drained).toBeGreaterThan(0) // the round robin gave worker 0 some of the clients; it handed them over
    const afterDrain = members.map(m => m.client.stats().possibleDuplicates)
    await cluster.start(0)
    // phase 2: worker 1 is killed outright; its sessions are recovered on worker 0 from what it persisted
    await expect.poll(progress, { timeout: 10_000 }).toBeGreaterThanOrEqual((2 * N) / 3 - 20)
    await cluster.kill(1, 'SIGKILL')
    phase = 2
    await Promise.race([Promise.all(members.map(async m => await m.done)), new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('the clients did not finish within 30 s')) }, 30_000))])
    expect(phase).toBe(2)

    expect(afterDrain).toEqual(members.map(() => 0)) // the drain was exact: nothing counted as a possible duplicate
    expect(members.reduce((n, m) => n + m.client.stats().resumes, 0) - resumedBefore).toBeGreaterThanOrEqual(K) // every client resumed at least once (drain or kill)
    const took = readLedgers(dir)
    for (const [k, m] of members.entries()) {
      let twice = 0
      for (let i = 1; i <= N; i++) {
        const t = took.get(`c${k}.${i}`) ?? 0
        const received = m.got.get(`s${k}.${i}`) ?? 0
        if (i <= N / 3) {
          // written before the SIGTERM (the clients hold at N / 3 until it is over) and persisted by the
          // drain at the latest: the handover and the later SIGKILL leave each exactly once, both ways
          expect(t, `c${k}.${i} taken`).toBe(1)
          expect(received, `s${k}.${i} received`).toBe(1)
        }
        expect(t, `c${k}.${i} taken`).toBeGreaterThanOrEqual(1)
        expect(received, `s${k}.${i} received`).toBeGreaterThanOrEqual(1)
        expect(received, `s${k}.${i} received`).toBeLessThanOrEqual(t)
        twice += t - 1
      }
      const stats = m.client.stats()
      expect(twice, `client ${k}: duplicates at the servers within what it counted`).toBeLessThanOrEqual(stats.possibleDuplicates)
      expect(stats.sessionsLost).toBe(0)
    }
  })
})
