import { randomBytes } from 'node:crypto'
import { validate } from '@proto/interface'
import type { Redis, RedisOptions } from 'ioredis'
import {
  DEFAULT_COMMAND_TIMEOUT, DEFAULT_HANDOVER_TIMEOUT, DEFAULT_KEY_TTL, DEFAULT_NODE_TTL, DEFAULT_PERSIST_INTERVAL,
  DEFAULT_PREFIX, RECONNECT_INITIAL_DELAY, RECONNECT_MAX_DELAY
} from './constants.js'

/** Options of `redisStore()`. */
export interface RedisStoreInit {
  /**
   * Where Redis is: a `redis://` URL or ioredis options (host, port, password, tls …). The store opens two
   * connections of its own (commands; pub/sub for handovers) with the settings described in the README
   * (`enableOfflineQueue: false`, `commandTimeout`, `maxRetriesPerRequest: 1`,
   * `autoResendUnfulfilledCommands: false`, a capped backoff with jitter); options given here win.
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: string | RedisOptions
  /** Prefix of every key and channel. @default 'proto:' */
  prefix?: string
  /** This node's name in Redis (owner of its sessions, name of its channel). @default 16 random hex digits */
  nodeId?: string
  /**
   * How long a session's keys live without a write (ms); set it to the server's `ttl`. A node refreshes the
   * keys of the sessions it holds every third of it.
   * @default 120000
   */
  ttl?: number
  /**
   * The shortest time between two persists of the sessions that changed (ms); 0 = at the next turn of the
   * event loop (write-through). ACKs cover only what is persisted, so this also delays them (a session
   * whose ACKs wait while its client's window fills is persisted at once); after a SIGKILL, what the
   * killed node delivered within about this window is sent again (counted).
   * @default 10
   */
  persistInterval?: number
  /** How long to wait for the node holding a session to hand it over before taking it anyway (ms). @default 2000 */
  handoverTimeout?: number
  /** A node is taken for dead this long after its last liveness write (ms). @default 3000 */
  nodeTtl?: number
  /** The longest one Redis command may take (ms) before Redis counts as unavailable. @default 1000 */
  commandTimeout?: number
}

export interface StoreOptions {
  redis: RedisOptions
  prefix: string
  nodeId: string
  ttl: number
  persistInterval: number
  handoverTimeout: number
  nodeTtl: number
}

/** Reconnection backoff for ioredis: capped exponential with full jitter, forever. */
export function retryStrategy (times: number): number {
  const ceiling = Math.min(RECONNECT_MAX_DELAY, RECONNECT_INITIAL_DELAY * 2 ** Math.min(times, 16))
  return Math.max(RECONNECT_INITIAL_DELAY, Math.floor(Math.random() * ceiling))
}

function parseUrl (url: string): RedisOptions {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return validate.invalid('redis', 'a redis:// URL or ioredis options', url)
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') validate.invalid('redis', 'a redis:// or rediss:// URL', url)
  return {
    host: u.hostname === '' ? '127.0.0.1' : u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {})
  }
}

export function resolveStore (init: RedisStoreInit): StoreOptions {
  validate.options('init', init)
  const given = init.redis ?? 'redis://127.0.0.1:6379'
  const base = typeof given === 'string' ? parseUrl(given) : validate.options('redis', given)
  const commandTimeout = validate.duration('commandTimeout', init.commandTimeout, DEFAULT_COMMAND_TIMEOUT, { min: 1 })
  const prefix = init.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') validate.invalid('prefix', 'a string', prefix)
  const nodeId = init.nodeId ?? randomBytes(8).toString('hex')
  if (typeof nodeId !== 'string' || nodeId === '' || /[\s{}]/.test(nodeId)) validate.invalid('nodeId', 'a non-empty string without spaces or braces', nodeId)
  return {
    redis: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      commandTimeout,
      connectTimeout: Math.max(commandTimeout, 2_000),
      retryStrategy,
      enableAutoPipelining: true,
      lazyConnect: true,
      ...base
    },
    prefix,
    nodeId,
    // both go to Redis as PX/PEXPIRE arguments, which take whole milliseconds
    ttl: Math.ceil(validate.duration('ttl', init.ttl, DEFAULT_KEY_TTL, { min: 1 })),
    persistInterval: validate.duration('persistInterval', init.persistInterval, DEFAULT_PERSIST_INTERVAL, { min: 0 }),
    handoverTimeout: validate.duration('handoverTimeout', init.handoverTimeout, DEFAULT_HANDOVER_TIMEOUT, { min: 1 }),
    nodeTtl: Math.ceil(validate.duration('nodeTtl', init.nodeTtl, DEFAULT_NODE_TTL, { min: 3 }))
  }
}

export type { Redis }
