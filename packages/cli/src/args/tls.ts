import { readFileSync } from 'node:fs'
import type { ClientTLSInit, ServerTLSInit } from '@proto/transport'
import { UsageError } from '../errors.js'
import type { Values } from './spec.js'
import { flagValue, given, stringValue } from './spec.js'

/** Reads a PEM file named by a flag; an unreadable file is a usage error naming the flag. */
function pem (values: Values, flag: string): Buffer | undefined {
  const path = stringValue(values, flag)
  if (path === undefined) return undefined
  try {
    return readFileSync(path)
  } catch (err) {
    throw new UsageError(`cannot read --${flag} file '${path}': ${(err as Error).message}`, { cause: err })
  }
}

/** `connect`/`bench`: TLS options, or `undefined` for plain TCP. Any TLS flag switches TLS on. */
export function resolveClientTls (values: Values): ClientTLSInit | undefined {
  const used = given(values, ['tls', 'ca', 'cert', 'key', 'servername', 'insecure'])
  if (used.length === 0) return undefined
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError('--cert and --key go together: a client certificate needs its private key')
  }
  const tls: ClientTLSInit = {}
  const ca = pem(values, 'ca')
  const cert = pem(values, 'cert')
  const key = pem(values, 'key')
  const servername = stringValue(values, 'servername')
  if (ca !== undefined) tls.ca = ca
  if (cert !== undefined) tls.cert = cert
  if (key !== undefined) tls.key = key
  if (servername !== undefined) tls.servername = servername
  if (flagValue(values, 'insecure')) tls.rejectUnauthorized = false
  return tls
}

/** `listen`: TLS options, or `undefined` for plain TCP. `--ca` makes client certificates required. */
export function resolveServerTls (values: Values): ServerTLSInit | undefined {
  const used = given(values, ['tls', 'cert', 'key', 'ca'])
  if (used.length === 0) return undefined
  const cert = pem(values, 'cert')
  const key = pem(values, 'key')
  if (cert === undefined || key === undefined) {
    throw new UsageError(`TLS (${used.map(f => `--${f}`).join(', ')}) needs the server's --cert and --key`)
  }
  const ca = pem(values, 'ca')
  return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true }
}
