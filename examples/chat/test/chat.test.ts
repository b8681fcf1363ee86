import { startFaultProxy } from '@proto/fault-proxy'
import { afterEach, describe, expect, it } from 'vitest'
import { joinAndVanish } from '../src/ghost.js'
import type { ChatServer } from '../src/index.js'
import { joinChat, startChatServer } from '../src/index.js'

const hb = { heartbeatInterval: 100, heartbeatTimeout: 400 }
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function server (idleTimeout = 60_000): Promise<ChatServer> {
  const chat = await startChatServer({ ...hb, idleTimeout })
  cleanups.push(async () => { await chat.close() })
  return chat
}

describe('chat example', () => {
  it('broadcasts every line to every member, in order', async () => {
    const chat = await server()
    const clients = await Promise.all(['ann', 'ben', 'cat'].map(async name => await joinChat({ port: chat.port, name, ...hb })))
    await Promise.all(clients.map(async c => await c.waitFor(l => l === '* cat joined')))
    for (let i = 0; i < 50; i++) clients[i % 3].say(`line ${i}`)
    const said = (lines: string[]): string[] => lines.filter(l => l.includes(': line '))
    for (const c of clients) await expect.poll(() => said(c.lines).length).toBe(50)
    // every member saw the same lines in the server's broadcast order; each speaker's lines in the order spoken
    for (const c of clients) expect(said(c.lines)).toEqual(said(chat.log))
    for (const name of ['ann', 'ben', 'cat']) {
      const own = said(chat.log).filter(l => l.startsWith(name)).map(l => Number(l.split(' ').at(-1)))
      expect(own).toEqual([...own].sort((a, b) => a - b))
    }
    expect(chat.members.size).toBe(3)
    await Promise.all(clients.map(async (c) => { await c.leave() }))
    await expect.poll(() => chat.server.connections.size).toBe(0)
    expect(chat.log.filter(l => l.endsWith(' left'))).toHaveLength(3)
  })

  it('a member that goes silent without a FIN is found by the heartbeat and removed; the others keep chatting', async () => {
    const chat = await server()
    const ann = await joinChat({ port: chat.port, name: 'ann', ...hb })
    const ben = await joinChat({ port: chat.port, name: 'ben', ...hb })
    cleanups.push(async () => { await Promise.all([ann.leave(), ben.leave()]) })
    cleanups.push(await joinAndVanish(chat.port, 'ghost'))
    await ann.waitFor(l => l === '* ghost joined')
    expect(chat.members.size).toBe(3)
    expect(chat.server.connections.size).toBe(3)

    const gone = performance.now()
    await ann.waitFor(l => l === '* ghost vanished (no FIN, heartbeat timeout)')
    expect(performance.now() - gone).toBeLessThan(400 + 2_000) // timeout plus generous slack
    expect([...chat.members.values()].map(m => m.name).sort()).toEqual(['ann', 'ben'])
    await expect.poll(() => chat.server.connections.size).toBe(2) // gone from the transport's registry too
    ann.say('still here?')
    expect(await ben.waitFor(l => l.startsWith('ann:'))).toBe('ann: still here?')
  })

  it('a member whose network black-holes is removed by the server, and its own client gives up too', async () => {
    const chat = await server()
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: chat.port }, seed: 1 })
    cleanups.push(async () => { await proxy.close() })
    const ann = await joinChat({ port: chat.port, name: 'ann', ...hb })
    cleanups.push(async () => { await ann.leave() })
    const far = await joinChat({ port: proxy.port, name: 'far', ...hb })
    await ann.waitFor(l => l === '* far joined')
    proxy.blackHole() // nothing gets through, no FIN, no reset, until restore()
    await ann.waitFor(l => l === '* far vanished (no FIN, heartbeat timeout)')
    expect((await far.done)?.name).toBe('HeartbeatTimeoutError')
    ann.say('alone now')
    await ann.waitFor(l => l === 'ann: alone now')
    expect([...chat.members.values()].map(m => m.name)).toEqual(['ann'])
  })

  it('a member that says nothing for idleTimeout gets GOAWAY IDLE_TIMEOUT and is closed cleanly', async () => {
    const chat = await server(300)
    const quiet = await joinChat({ port: chat.port, name: 'quiet', ...hb })
    expect(await quiet.done).toBeUndefined() // the server half-closed after GOAWAY; the client followed
    expect(quiet.lines.at(-1)).toBe('! server closed the connection: idle')
    await expect.poll(() => chat.log.at(-1)).toBe('* quiet idle')
    await expect.poll(() => chat.server.connections.size).toBe(0)
  })
})
