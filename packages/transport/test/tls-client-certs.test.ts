import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import net from 'node:net'
import tls from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ClientTLSInit, Connection, DropEvent, Server } from '../src/index.js'
import { connect, listen, TLSError } from '../src/index.js'
import type { TestPKI } from './helpers.js'
import { makePKI, nextConnection, portOf, readAll, settle } from './helpers.js'

let pki: TestPKI
beforeAll(() => { pki = makePKI() })
afterAll(() => { pki?.remove() })

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

type Version = 'TLSv1.2' | 'TLSv1.3'
type Who = 'client' | 'foreign' | 'expired' | 'none'

/** A mutual-TLS echo server of this SDK; drops and handler runs are recorded. */
async function mtlsServer (): Promise<{ server: Server, drops: DropEvent[], handled: Connection[] }> {
  const drops: DropEvent[] = []
  const handled: Connection[] = []
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, ALPNProtocols: ['proto/1'] }
  }, async (conn) => {
    handled.push(conn)
    await conn.sink([await readAll(conn)])
  })
  server.addEventListener('drop', ({ detail }) => { drops.push(detail) })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return { server, drops, handled }
}

function clientTLS (who: Who, version: Version): ClientTLSInit {
  const cert = { client: [pki.clientCert, pki.clientKey], foreign: [pki.foreignCert, pki.foreignKey], expired: [pki.expiredCert, pki.expiredKey], none: [] }[who]
  const t: ClientTLSInit = { ca: pki.ca, servername: 'localhost', minVersion: version, maxVersion: version, ALPNProtocols: ['proto/1'] }
  if (cert[0] !== undefined && cert[1] !== undefined) { t.cert = cert[0]; t.key = cert[1] }
  return t
}

/** Connects and does one exchange: the outcome of connect(), or of the first read once connected. */
async function attempt (port: number, who: Who, version: Version): Promise<{ stage: 'connect' | 'read' | 'ok', error?: any, bytes?: number }> {
  const c = await settle(connect({ host: '127.0.0.1', port, tls: clientTLS(who, version) }))
  if (!c.ok) return { stage: 'connect', error: c.error }
  const conn = c.value
  cleanups.push(() => { conn.abort(new Error('test over')) })
  const [, read] = await Promise.all([settle(conn.sink([Buffer.from('hello')])), settle(readAll(conn))])
  if (!read.ok) {
    // the same typed error is what the connection ended with
    expect((await conn.closed).error).toBe(read.error)
    return { stage: 'read', error: read.error }
  }
  return { stage: 'ok', bytes: read.value.byteLength }
}

describe('client certificates refused by a server of this SDK', () => {
  it.each(['TLSv1.3', 'TLSv1.2'] as const)('%s, certificate from an untrusted CA: the drop carries the verification code', async (version) => {
    const { server, drops, handled } = await mtlsServer()
    const r = await attempt(portOf(server), 'foreign', version)
    await vi.waitFor(() => { expect(drops).toHaveLength(1) })
    const [drop] = drops as [DropEvent]
    expect(drop.reason).toBe('tls-handshake')
    expect(drop.error).toBeInstanceOf(TLSError)
    expect(drop.error).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', fatal: true })
    expect(drop.error.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/)
    expect(handled).toEqual([])
    if (version === 'TLSv1.2') {
      // Node sends no alert for a refused certificate; it closes the handshake, which the client types
      expect(r.stage).toBe('connect')
      expect(r.error).toMatchObject({ name: 'TLSError', code: 'ERR_TLS_HANDSHAKE_CLOSED', fatal: false })
    } else {
      // TLS 1.3: the client's handshake was over before the server checked; it sees the server close
      expect(r).toEqual({ stage: 'ok', bytes: 0 })
    }
  })

  it.each(['TLSv1.3', 'TLSv1.2'] as const)('%s, expired certificate: the drop says CERT_HAS_EXPIRED', async (version) => {
    const { server, drops } = await mtlsServer()
    const r = await attempt(portOf(server), 'expired', version)
    await vi.waitFor(() => { expect(drops).toHaveLength(1) })
    expect(drops[0]?.error).toMatchObject({ name: 'TLSError', code: 'CERT_HAS_EXPIRED', fatal: true })
    if (version === 'TLSv1.2') {
      // the client knows its own certificate expired, so it names the cause and calls it fatal
      expect(r.error).toMatchObject({ name: 'TLSError', code: 'CERT_HAS_EXPIRED', fatal: true })
    } else {
      expect(r).toEqual({ stage: 'ok', bytes: 0 })
    }
  })

  it('TLSv1.3, no certificate: the alert arrives after connect() resolved and fails the first read with a fatal TLSError', async () => {
    const { server, drops } = await mtlsServer()
    const r = await attempt(portOf(server), 'none', 'TLSv1.3')
    expect(r.stage).toBe('read')
    expect(r.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', fatal: true })
    expect(r.error.message).toMatch(/pass tls.cert and tls.key/)
    await vi.waitFor(() => { expect(drops).toHaveLength(1) })
    expect(drops[0]?.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' })
    expect(drops[0]?.remoteAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
  })

  it('TLSv1.2, no certificate: connect() rejects with a fatal TLSError', async () => {
    const { server } = await mtlsServer()
    const r = await attempt(portOf(server), 'none', 'TLSv1.2')
    expect(r.stage).toBe('connect')
    expect(r.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', fatal: true })
  })

  it('a fatal TLSError is what a reconnecting client\'s shouldRetry needs to stop', async () => {
    const { server } = await mtlsServer()
    const shouldRetry = (err: Error): boolean => !(err instanceof TLSError && err.fatal)
    const r = await attempt(portOf(server), 'none', 'TLSv1.3')
    expect(shouldRetry(r.error)).toBe(false)
    expect(shouldRetry(new TLSError('closed mid-handshake', { code: 'ERR_TLS_HANDSHAKE_CLOSED', fatal: false }))).toBe(true)
  })

  it('a verified client: both ends expose the peer\'s TLS details', async () => {
    const { server } = await mtlsServer()
    const accepted = nextConnection(server)
    const conn = await connect({ host: '127.0.0.1', port: portOf(server), tls: clientTLS('client', 'TLSv1.3') })
    const serverSide = await accepted
    expect(serverSide.tls).toMatchObject({ authorized: true, authorizationError: undefined, alpnProtocol: 'proto/1', protocol: 'TLSv1.3' })
    expect(serverSide.tls?.peerCertificate?.subject.CN).toBe('proto client')
    expect(conn.tls).toMatchObject({ authorized: true, alpnProtocol: 'proto/1', protocol: 'TLSv1.3' })
    expect(conn.tls?.peerCertificate?.subject.CN).toBe('localhost')
    const [, reply] = await Promise.all([conn.sink([Buffer.from('mtls')]), readAll(conn)])
    expect(reply.toString()).toBe('mtls')
    // a plain TCP connection has no TLS details
    const plain = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await plain.close({ deadline: 100 }) })
    const tcp = await connect({ host: '127.0.0.1', port: portOf(plain) })
    expect(tcp.tls).toBeUndefined()
    tcp.abort(new Error('done'))
  })
})

/** Whether `promise` settles within `ms` (a connection that never closes would leave it pending for good). */
async function settlesWithin<T> (promise: Promise<T>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => { timer = setTimeout(resolve, ms, false) })
  try {
    return await Promise.race([promise.then(() => true, () => true), late])
  } finally {
    clearTimeout(timer)
  }
}

describe('a TLS connection that fails after its handshake is gone: closed resolves, its socket is released', () => {
  it('client: the TLS 1.3 alert of a refused certificate on a connection that only reads; closed, close() and the signal all follow', async () => {
    const { server } = await mtlsServer()
    const conn = await connect({ host: '127.0.0.1', port: portOf(server), closeTimeout: 500, tls: clientTLS('none', 'TLSv1.3') })
    cleanups.push(() => { conn.abort(new Error('test over')) })
    const read = await settle(readAll(conn))
    expect(read.ok ? undefined : read.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', fatal: true })
    expect(await settlesWithin(conn.closed, 5_000)).toBe(true)
    const info = await conn.closed
    expect(info).toMatchObject({ reason: 'error', initiator: 'remote' })
    expect(info.error).toBe(read.ok ? undefined : read.error)
    expect(conn.signal.aborted).toBe(true)
    expect(await settlesWithin(conn.close(), 5_000)).toBe(true)
  })

  it('server: a corrupt record after the handshake fails that connection with a TLSError and frees its slot under maxConnections; the next client is served', async () => {
    const handled: Array<{ conn: Connection, read: Awaited<ReturnType<typeof settle<Buffer>>> }> = []
    const server = await listen({ host: '127.0.0.1', port: 0, maxConnections: 1, closeTimeout: 500, tls: { cert: pki.serverCert, key: pki.serverKey } }, async (conn) => {
      const read = await settle(readAll(conn))
      handled.push({ conn, read })
      if (read.ok) await conn.sink([read.value])
    })
    cleanups.push(async () => { await server.close({ deadline: 200 }) })
    // a peer that completes its handshake, then writes a record no key decrypts straight onto the TCP socket
    const tcp = net.connect({ host: '127.0.0.1', port: portOf(server) })
    tcp.on('error', () => {})
    await new Promise(resolve => tcp.once('connect', resolve))
    const peer = tls.connect({ socket: tcp, ca: pki.ca, servername: 'localhost' })
    peer.on('error', () => {})
    cleanups.push(() => { peer.destroy(); tcp.destroy() })
    await new Promise(resolve => peer.once('secureConnect', resolve))
    await vi.waitFor(() => { expect(server.connections.size).toBe(1) })
    const peerClosed = new Promise(resolve => tcp.once('close', resolve))
    tcp.write(Buffer.from('170303001000112233445566778899aabbccddeeff', 'hex'))
    await vi.waitFor(() => { expect(handled).toHaveLength(1) })
    const [{ conn, read }] = handled as [typeof handled[0]]
    expect(read.ok ? undefined : read.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', fatal: false })
    expect(await settlesWithin(conn.closed, 5_000)).toBe(true)
    await vi.waitFor(() => { expect(server.connections.size).toBe(0) })
    // the server closed its socket: the peer sees it go
    expect(await settlesWithin(peerClosed, 5_000)).toBe(true)
    // the one slot is free again
    const next = await connect({ host: '127.0.0.1', port: portOf(server), tls: { ca: pki.ca, servername: 'localhost' } })
    cleanups.push(() => { next.abort(new Error('test over')) })
    const [, reply] = await Promise.all([next.sink([Buffer.from('after')]), readAll(next)])
    expect(reply.toString()).toBe('after')
  })
})

/**
 * `openssl s_server` requiring a verified client certificate: it sends the alert a Node server cannot.
 * Its stdin stays open (a pipe): at end of input it would close the connection itself.
 */
async function opensslServer (): Promise<number> {
  const child: ChildProcess = spawn('/usr/bin/openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-CAfile', 'ca.pem', '-Verify', '1', '-verify_return_error', '-naccept', '1'], { cwd: pki.dir, stdio: ['pipe', 'pipe', 'pipe'] })
  cleanups.push(() => { child.kill() })
  let out = ''
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`openssl s_server did not start: ${out}`)) }, 10_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /ACCEPT\s+\S*?:(\d+)/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
}

describe('client certificates refused by a server that sends the TLS alert (openssl s_server)', () => {
  it.each([
    ['foreign', 'TLSv1.3', 'read', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ['foreign', 'TLSv1.2', 'connect', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ['expired', 'TLSv1.3', 'read', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    ['expired', 'TLSv1.2', 'connect', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED']
  ] as const)('%s certificate, %s: a fatal TLSError carrying the alert, at %s', async (who, version, stage, code) => {
    const port = await opensslServer()
    const r = await attempt(port, who, version)
    expect(r.stage).toBe(stage)
    expect(r.error).toMatchObject({ name: 'TLSError', code, fatal: true })
  })
})
