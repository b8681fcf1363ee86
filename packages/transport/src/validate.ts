import { InvalidParametersError, validate } from '@proto/interface'
import { MAX_KEEP_ALIVE_SECONDS } from './constants.js'

/**
 * Checks `keepAlive` and returns the delay for Node in ms, or `false`. Only whole seconds are accepted:
 * Node truncates the delay to seconds, and a result of 0 means "the OS default" (2 hours on Linux).
 */
export function keepAliveDelay (value: false | number | undefined): false | number {
  if (value === undefined || value === false) return false
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_KEEP_ALIVE_SECONDS) {
    validate.invalid('keepAlive', `false or whole seconds from 1 to ${MAX_KEEP_ALIVE_SECONDS}`, value, 'Node truncates keep-alive delays to whole seconds and turns anything under one second into the OS default (2 hours on Linux), so pass e.g. 1 or 30')
  }
  return value * 1000
}

/** The longest Unix socket path the system keeps whole, in bytes (`sun_path` less its terminating zero). */
const MAX_UNIX_PATH_BYTES: Partial<Record<NodeJS.Platform, number>> = { linux: 107, android: 107, darwin: 103, freebsd: 103, openbsd: 103, netbsd: 103, sunos: 107, aix: 1022 }

/** Checks where to connect or listen: `path` (no longer than the system keeps), or `host`/`port`, never both. */
export function checkEndpoint (init: { host?: string, port?: number, path?: string }, portMin: number): void {
  if (init.path != null) {
    if (typeof init.path !== 'string' || init.path === '') validate.invalid('path', 'a non-empty Unix socket path', init.path)
    // the kernel keeps the first bytes of a longer path and drops the rest: another socket file, silently
    const max = MAX_UNIX_PATH_BYTES[process.platform] ?? 103
    const bytes = Buffer.byteLength(init.path)
    if (process.platform !== 'win32' && bytes > max) {
      throw new InvalidParametersError(`expected a Unix socket path of at most ${max} bytes (the system's limit), but got ${bytes} bytes: ${init.path}; use a shorter directory (a relative path counts from the working directory)`)
    }
    if (init.host != null || init.port != null) throw new InvalidParametersError('expected either path (Unix socket) or host/port (TCP), but got both; pass one of them')
    return
  }
  if (init.host != null && (typeof init.host !== 'string' || init.host === '')) validate.invalid('host', 'a host name or IP address', init.host)
  if (init.host?.startsWith('[') === true) validate.invalid('host', 'a host name or IP address', init.host, "write an IPv6 address without brackets, as in { host: '::1', port }")
  if (init.port === undefined && portMin > 0) throw new InvalidParametersError('expected a port (with an optional host) or a Unix socket path, but got neither')
  if (init.port !== undefined) validate.integer('port', init.port, 0, { min: portMin, max: 65535 })
}

/**
 * What Node throws for TLS material it cannot use (a PEM it cannot parse, a key that does not match the
 * certificate), as `InvalidParametersError`, the original as its `cause`; anything else as it is.
 */
export function badTLSOption (err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err))
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string' && (code.startsWith('ERR_OSSL') || code === 'ERR_INVALID_ARG_TYPE')) {
    return new InvalidParametersError(`expected tls options with a certificate, key and CA that can be read, but Node refused them: ${e.message}`, { cause: e })
  }
  return e
}
