import { DEFAULT_LISTEN_HOST } from '../constants.js'
import { badValue } from './values.js'

/** Where to connect or listen: a TCP host and port, or a Unix socket path. */
export type Address = {
  /** A host name or IP address, IPv6 without brackets (`::1`). */
  host: string
  /** The TCP port: 1–65535 to connect to, 0–65535 to listen on (0 picks a free one). */
  port: number
} | {
  /** The Unix socket's path (what follows `unix:`). */
  path: string
}

const WITH_HOST = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/

function port (what: string, text: string, digits: string, min: number): number {
  const n = Number(digits)
  if (!/^\d+$/.test(digits) || n < min || n > 65535) badValue(what, `a port from ${min} to 65535`, text)
  return n
}

/**
 * A place to connect to: `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`.
 * @param what - how the argument is named in messages (`'HOST:PORT'`, `'TARGET'`)
 */
export function parseTarget (what: string, text: string): Address {
  if (text.startsWith('unix:')) return unixPath(what, text)
  const m = WITH_HOST.exec(text)
  if (m === null) badValue(what, "'HOST:PORT', '[IPv6]:PORT' or 'unix:PATH'", text, "e.g. '127.0.0.1:7000'")
  return { host: m[1] ?? m[2]!, port: port(what, text, m[3]!, 1) }
}

/**
 * A place to listen on: `PORT` (on 127.0.0.1), `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`. Port 0 picks a free one.
 */
export function parseListenAddress (what: string, text: string): Address {
  if (text.startsWith('unix:')) return unixPath(what, text)
  if (/^\d+$/.test(text)) return { host: DEFAULT_LISTEN_HOST, port: port(what, text, text, 0) }
  const m = WITH_HOST.exec(text)
  if (m === null) badValue(what, "'PORT', 'HOST:PORT', '[IPv6]:PORT' or 'unix:PATH'", text, "e.g. '7000' or '0.0.0.0:7000'")
  return { host: m[1] ?? m[2]!, port: port(what, text, m[3]!, 0) }
}

function unixPath (what: string, text: string): Address {
  const path = text.slice('unix:'.length)
  if (path === '') badValue(what, "'unix:' followed by a socket path", text)
  return { path }
}

/** An address as people write it: `127.0.0.1:7000`, `[::1]:7000`, `unix:/tmp/s`. */
export function formatAddress (address: Address): string {
  if ('path' in address) return `unix:${address.path}`
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
