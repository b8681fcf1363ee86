import type { RedisServer } from '@proto/stage-compliance'
import { canRun, redisServerTool, startRedisServer } from '@proto/stage-compliance'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChatNode, SessionChatClient } from '../src/index.js'
import { joinSessionChat, startChatNode } from '../src/index.js'

const cleanups: Array<() => Promise<void> | void> = []
let redis: RedisServer
let a: ChatNode
let b: ChatNode
beforeEach(async () => {
  if (!canRun(redisServerTool)) return
  redis = await startRedisServer()
  a = await startChatNode({ redis: redis.url, store: { prefix: 'chat-test:' } })
  b = await startChatNode({ redis: redis.url, store: { prefix: 'chat-test:' } })
  cleanups.push(async () => { await a.close() }, async () => { await b.close() }, async () => { await redis.close() })
})
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

function join (port: number, name: string): { client: SessionChatClient, target: { port: number } } {
  const target = { port }
  const client = joinSessionChat(target, name)
  cleanups.unshift(() => { client.session.abort(new Error('the test is over')) })
  return { client, target }
}

describe.runIf(canRun(redisServerTool))('chat across nodes (sessions on Redis, broadcast through Redis pub/sub)', () => {
  it('members on different nodes see each other\'s lines, in one order', async () => {
    const ann = join(a.port, 'ann').client
    await ann.waitFor(l => l === '* ann joined')
    const ben = join(b.port, 'ben').client
    await ann.waitFor(l => l === '* ben joined')
    for (let i = 0; i < 20; i++) (i % 2 === 0 ? ann : ben).say(`line ${i}`)
    const said = (lines: string[]): string[] => lines.filter(l => l.includes(': line '))
    await expect.poll(() => said(ann.lines).length).toBe(20)
    await expect.poll(() => said(ben.lines).length).toBe(20)
    expect(said(ann.lines)).toEqual(said(ben.lines))
    expect(a.log).toEqual(b.log) // one room order on every node
    expect([...a.members.values()]).toEqual(['ann'])
    expect([...b.members.values()]).toEqual(['ben'])
  })

  it('a member whose client lands on another node while the room is busy misses nothing and sees nothing twice', async () => {
    const ann = join(a.port, 'ann').client
    const ben = join(b.port, 'ben').client
    const cat = join(a.port, 'cat')
    await cat.client.waitFor(l => l === '* ben joined')
    const N = 150
    const talking = (async () => {
      for (let i = 0; i < N; i++) {
        ;(i % 2 === 0 ? ann : ben).say(`line ${i}`)
        if (i === N / 3) { cat.target.port = b.port; cat.client.session.reconnect() } // the balancer sends cat to B
        await new Promise(resolve => setTimeout(resolve, 2))
      }
    })()
    await talking
    await expect.poll(() => cat.client.lines.filter(l => l.includes(': line ')).length, { timeout: 10_000 }).toBe(N)
    await expect.poll(() => b.log.filter(l => l.includes(': line ')).length).toBe(N)
    // everything the room said since cat joined, once each, in the room's order
    const since = b.log.slice(b.log.indexOf('* cat joined') + 1)
    await expect.poll(() => cat.client.lines.slice(cat.client.lines.indexOf('* cat joined') + 1)).toEqual(since)
    expect([...b.members.values()].sort()).toEqual(['ben', 'cat'])
    expect([...a.members.values()]).toEqual(['ann'])
    expect(a.sessions.stats().moved).toBe(1)
    expect(b.sessions.stats().restored.handover).toBe(1)
    expect(a.log.filter(l => l.startsWith('* cat'))).toEqual(['* cat joined']) // moving is not leaving
    expect(a.redisErrors + b.redisErrors).toBe(0)
  })
})
