/**
 * A worker of the session probes: `node session/worker.js server` hosts the servers, `node session/worker.js
 * client` the clients. The orchestrator (`session/run.js`) drives both over IPC.
 */
import { serveRequests } from '../lib/ipc.js'
import { idleClientHandlers, idleServerHandlers, recoveryClientHandlers, recoveryServerHandlers } from './probes.js'

const role = process.argv[2]

if (role === 'server') {
  serveRequests({ ...recoveryServerHandlers, ...idleServerHandlers })
} else if (role === 'client') {
  serveRequests({ ...recoveryClientHandlers, ...idleClientHandlers })
} else {
  throw new Error('usage: node session/worker.js server|client (started by session/run.js)')
}
