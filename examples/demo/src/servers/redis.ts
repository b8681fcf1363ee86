import type { RedisServer } from '@proto/stage-compliance/redis-server'

/** `--servers` needs a `redis-server` program, and there is none on this machine. */
export class RedisServerMissingError extends Error {
  static override name = 'RedisServerMissingError'
  constructor (message = '--servers needs redis-server (the servers share their sessions through Redis), but it is not installed: '
    + 'install it with `apt-get install redis-server` (Debian, Ubuntu; `brew install redis` on macOS) and run again. '
    + 'Without --servers the demo needs only Node and npm.') {
    super(message)
    this.name = 'RedisServerMissingError'
  }
}

/** Throws `RedisServerMissingError` when `redis-server` is not installed: `--servers` fails before anything starts. */
export async function requireRedisServer (): Promise<void> {
  // loaded only with --servers: the plain demo never looks for redis-server
  const { redisServerTool } = await import('@proto/stage-compliance/redis-server')
  if (!redisServerTool.found) throw new RedisServerMissingError()
}

/**
 * Starts the run's own `redis-server`: a free loopback port, a temporary directory, no persistence; only
 * this process is ever signalled (by its PID) and `close()` removes the directory. Throws
 * `RedisServerMissingError` at once when `redis-server` is not installed.
 */
export async function startDemoRedis (): Promise<RedisServer> {
  await requireRedisServer()
  const { startRedisServer } = await import('@proto/stage-compliance/redis-server')
  return await startRedisServer()
}
