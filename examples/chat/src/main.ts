import { joinAndVanish } from './ghost.js'
import { joinChat, startChatServer } from './index.js'

const started = performance.now()
const stamp = (): string => `[${((performance.now() - started) / 1000).toFixed(2)} s]`
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

// Short timings so the whole story takes a few seconds: ping after 250 ms of silence, a member silent
// for 1 s is gone, a member that says nothing for 2 s is sent away.
const chat = await startChatServer({ heartbeatInterval: 250, heartbeatTimeout: 1_000, idleTimeout: 2_000 })
chat.onLine = (line) => { console.log(`${stamp()} ${line.padEnd(48)} (members: ${chat.members.size}, connections: ${chat.server.connections.size})`) }

const alice = await joinChat({ port: chat.port, name: 'alice', heartbeatInterval: 250, heartbeatTimeout: 1_000 })
const bob = await joinChat({ port: chat.port, name: 'bob', heartbeatInterval: 250, heartbeatTimeout: 1_000 })
await alice.waitFor(l => l === '* bob joined')
const destroyCarol = await joinAndVanish(chat.port, 'carol') // joins, then goes silent without a FIN
await alice.waitFor(l => l === '* carol joined')
alice.say('hi all')
await bob.waitFor(l => l === 'alice: hi all')
bob.say('hi alice')

await alice.waitFor(l => l.startsWith('* carol vanished'))
const dave = await joinChat({ port: chat.port, name: 'dave', heartbeatInterval: 250, heartbeatTimeout: 1_000 })
await alice.waitFor(l => l === '* dave joined')
for (let i = 1; !alice.lines.some(l => l === '* dave idle'); i++) { // alice and bob keep talking, dave does not
  alice.say(`still here (${i})`)
  bob.say(`me too (${i})`)
  await sleep(500)
}
console.log(`${stamp()} dave saw: ${dave.lines.at(-1) ?? ''}`)
await Promise.all([alice.leave(), bob.leave(), dave.done])
destroyCarol()
await chat.close()
console.log(`${stamp()} done: ${chat.log.length} lines broadcast, members left: ${chat.members.size}`)
