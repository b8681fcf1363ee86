/**
 * Helpers of the end-to-end session tests: a recording session server that writes its own stream into
 * every session (and can crash, losing every session), and a recording session client. Messages are those
 * of the stack tests (`[client][seq][payload]`), checked on arrival.
 */
export type { SessionTestClientInit } from './client.js'
export { SessionTestClient } from './client.js'
export type { ServedSession, SessionTestServerInit } from './server.js'
export { SessionTestServer } from './server.js'
