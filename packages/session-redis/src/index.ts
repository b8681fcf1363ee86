/**
 * @packageDocumentation
 *
 * A Redis session store for `@proto/session`: each session is persisted as it goes (positions, the
 * unacknowledged outbound frames, attributes; only the token's SHA-256 is stored), and handed between
 * server processes and hosts so a client resumes on any node. A resume on node B for a session held by
 * live node A makes A stop serving it and persist its exact state, then B takes it: exactly-once, as on
 * one node. If A died (SIGKILL), B restores what A persisted as it went: at-least-once at that boundary,
 * the client counting the possible duplicates. Epochs fence a node that lost a session; while Redis is
 * away, sessions carry on node-local. `runCluster` runs N server processes on one port (`node:cluster`).
 *
 * @example
 *
 * ```ts
 * import { sessionServer } from '@proto/session'
 * import { redisStore } from '@proto/session-redis'
 * import { listen } from '@proto/transport'
 *
 * const store = redisStore({ redis: 'redis://127.0.0.1:6379', ttl: 120_000 })
 * const server = sessionServer({ ttl: 120_000, store })
 * server.addEventListener('session', ({ detail: session }) => {
 *   session.sink(session.source).catch((err: Error) => { console.warn(`session ended: ${err.message}`) }) // a lost session fails it
 * })
 * await listen({ host: '127.0.0.1', port: 7000 }, async (conn) => { await server.handle(conn) })
 * ```
 */

export type { ClusterInit, ClusterWorker, RunningCluster, WorkerInit } from './cluster.js'
export { runCluster, workerReady } from './cluster.js'
export * from './constants.js'
export * from './errors.js'
export type { RedisStoreInit } from './options.js'
export type { RedisStore, RedisStoreEvents, RedisStoreStats, StoreMode } from './types.js'

import type { RedisStoreInit } from './options.js'
import { resolveStore } from './options.js'
import { RedisSessionStore } from './store.js'
import type { RedisStore } from './types.js'

/**
 * A session store on Redis. It connects at once (in the background: until then, and whenever Redis is
 * away, sessions are node-local); `await store.ready()` to wait for it. Throws `InvalidParametersError` at
 * once on a bad option. One store serves one `sessionServer`; `close()` it after the server.
 */
export function redisStore (init: RedisStoreInit = {}): RedisStore {
  return new RedisSessionStore(resolveStore(init))
}
