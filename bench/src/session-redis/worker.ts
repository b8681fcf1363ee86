/**
 * A worker of the Redis-store benchmark: `node session-redis/worker.js node` is one server node,
 * `node session-redis/worker.js client` the clients. The orchestrator (`session-redis/run.js`) drives them
 * over IPC.
 */
import { serveRequests } from '../lib/ipc.js'
import { clientHandlers } from './clients.js'
import { nodeHandlers } from './node.js'

const role = process.argv[2]
if (role === 'node') serveRequests(nodeHandlers)
else if (role === 'client') serveRequests(clientHandlers)
else throw new Error('usage: node session-redis/worker.js node|client (started by session-redis/run.js)')
