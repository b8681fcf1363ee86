/**
 * @packageDocumentation
 *
 * A chat over @proto: a server that broadcasts every line to every member, built on the transport's
 * connection registry, a heartbeat per connection (members that vanish without a FIN are found and
 * removed) and an idle timeout (members that say nothing are sent GOAWAY IDLE_TIMEOUT).
 *
 * @example
 *
 * ```ts
 * import { joinChat, startChatServer } from '@proto/example-chat'
 *
 * const chat = await startChatServer({ heartbeatInterval: 1_000, heartbeatTimeout: 3_000, idleTimeout: 60_000 })
 * const alice = await joinChat({ port: chat.port, name: 'alice' })
 * const bob = await joinChat({ port: chat.port, name: 'bob' })
 * alice.say('hi bob')
 * console.log(await bob.waitFor(line => line.startsWith('alice:')))   // 'alice: hi bob'
 * await Promise.all([alice.leave(), bob.leave()])
 * await chat.close()
 * ```
 */
export type { ChatClient, ChatClientInit } from './client.js'
export { joinChat } from './client.js'
export type { SessionChatClient } from './cluster-client.js'
export { joinSessionChat } from './cluster-client.js'
export type { ChatNode, ChatNodeInit } from './cluster-server.js'
export { startChatNode } from './cluster-server.js'
export { Mailbox } from './mailbox.js'
export { ChatType } from './protocol.js'
export type { ChatServer, ChatServerInit, Member } from './server.js'
export { startChatServer } from './server.js'
