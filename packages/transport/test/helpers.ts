import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock, Timers } from '@proto/interface'
import type { Carrier, CarrierEvents, Connection, Server } from '../src/index.js'

/** A fresh temporary directory and a function that removes it. */
export function tempDir (): { dir: string, remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'proto-transport-'))
  return { dir, remove: () => { rmSync(dir, { recursive: true, force: true }) } }
}

/** Whether `::1` can be bound on this machine. */
export async function ipv6Available (): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => { resolve(false) })
    s.listen(0, '::1', () => { s.close(() => { resolve(true) }) })
  })
}

/** The TCP port of a server listening on TCP. */
export function portOf (server: Server): number {
  const a = server.address
  if (a.family !== 'IPv4' && a.family !== 'IPv6') throw new Error('not a TCP server')
  return a.port
}

/** Reads a source to its end and returns the bytes. */
export async function readAll (conn: { source: AsyncIterable<Uint8Array | { subarray(): Uint8Array }> }): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of conn.source) parts.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
  return Buffer.concat(parts)
}

/** Resolves with the outcome of `promise`, never rejecting. */
export async function settle<T> (promise: Promise<T>): Promise<{ ok: true, value: T } | { ok: false, error: any }> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    return { ok: false, error }
  }
}

/** Resolves with the next connection a server accepts. */
export async function nextConnection (server: Server): Promise<Connection> {
  const [event] = await once(server, 'connection') as [CustomEvent<Connection>]
  return event.detail
}

export interface TestPKI {
  dir: string
  ca: Buffer
  serverCert: Buffer
  serverKey: Buffer
  clientCert: Buffer
  clientKey: Buffer
  /** A CA that signed nothing here: servers do not verify against it. */
  otherCa: Buffer
  /** A client certificate signed by `otherCa` (a CA the servers do not trust). */
  foreignCert: Buffer
  foreignKey: Buffer
  /** A client certificate from the right CA whose validity ended a day ago. */
  expiredCert: Buffer
  expiredKey: Buffer
  remove(): void
}

function openssl (cwd: string, ...args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd, stdio: 'pipe' })
}

/** Issues `name`.pem/.key signed by `ca`; `days` may be negative (a certificate that already expired). */
function issue (cwd: string, name: string, subject: string, ext: string, ca = 'ca', days = 2): void {
  openssl(cwd, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject)
  writeFileSync(join(cwd, `${name}.ext`), ext)
  openssl(cwd, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`)
}

/**
 * Generates a CA, a server certificate for localhost/127.0.0.1/::1, a client certificate, one from an
 * unrelated CA and one that expired yesterday.
 */
export function makePKI (): TestPKI {
  const { dir, remove } = tempDir()
  const selfSigned = (name: string, cn: string): void => {
    openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  }
  selfSigned('ca', 'proto test CA')
  selfSigned('other', 'unrelated CA')
  issue(dir, 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n')
  issue(dir, 'client', '/CN=proto client', 'extendedKeyUsage=clientAuth\n')
  issue(dir, 'foreign', '/CN=foreign client', 'extendedKeyUsage=clientAuth\n', 'other')
  issue(dir, 'expired', '/CN=expired client', 'extendedKeyUsage=clientAuth\n', 'ca', -1)
  const read = (f: string): Buffer => readFileSync(join(dir, f))
  return {
    dir,
    ca: read('ca.pem'),
    otherCa: read('other.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    foreignCert: read('foreign.pem'),
    foreignKey: read('foreign.key'),
    expiredCert: read('expired.pem'),
    expiredKey: read('expired.key'),
    remove
  }
}

/**
 * A TCP listener on 127.0.0.1 whose accept loop is frozen: a worker thread listens with backlog 1 and
 * then blocks in `Atomics.wait`. Once the kernel's accept queue holds backlog + 1 connections, further
 * SYNs are dropped, so a connect attempt hangs exactly like one to an unreachable host, but on loopback.
 */
export async function frozenListener (): Promise<{ port: number, release(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads')
  const sab = new SharedArrayBuffer(4)
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const net = require('node:net')
    const server = net.createServer(() => {})
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      parentPort.postMessage(server.address().port)
      setImmediate(() => { Atomics.wait(new Int32Array(workerData), 0, 0); server.close() })
    })
  `, { eval: true, workerData: sab })
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return {
    port,
    async release () {
      const flag = new Int32Array(sab)
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      await worker.terminate()
    }
  }
}

/** Time the test moves by hand: a clock and timers to inject, and `advance(ms)` to run what falls due. */
export interface ManualTime {
  clock: Clock
  timers: Timers
  advance(ms: number): void
  /** Timers scheduled and not yet run or cancelled. */
  pending(): number
}

export function manualTime (): ManualTime {
  let now = 0
  let seq = 0
  let queue: Array<{ at: number, seq: number, fn: () => void, cancelled: boolean }> = []
  return {
    clock: { now: () => now },
    timers: {
      setTimeout (fn, ms) {
        const t = { at: now + ms, seq: seq++, fn, cancelled: false }
        queue.push(t)
        return { cancel: () => { t.cancelled = true } }
      }
    },
    advance (ms) {
      const end = now + ms
      for (;;) {
        queue = queue.filter(t => !t.cancelled).sort((a, b) => a.at - b.at || a.seq - b.seq)
        const next = queue[0]
        if (next === undefined || next.at > end) break
        queue.shift()
        now = next.at
        next.fn()
      }
      now = end
    },
    pending: () => queue.filter(t => !t.cancelled).length
  }
}

/**
 * A carrier for tests, standing in for a socket: writes are taken (`true`), `end`, `reset` and `destroy`
 * are recorded in `calls` (the last two close it, as a socket does, from the next turn). `overrides`
 * replace any member; they get the recorded `calls` and the events it was attached to.
 */
export function fakeCarrier (overrides: (fake: { calls: string[], events(): CarrierEvents | undefined }) => Partial<Carrier> = () => ({})): { carrier: Carrier, calls: string[], events(): CarrierEvents | undefined } {
  let attached: CarrierEvents | undefined
  const calls: string[] = []
  const events = (): CarrierEvents | undefined => attached
  const carrier: Carrier = {
    attach (e) { attached = e },
    write () { return true },
    writev () { return true },
    end () { calls.push('end') },
    pause () {},
    resume () {},
    reset () { calls.push('reset'); setImmediate(() => attached?.onCarrierClose()) },
    destroy () { calls.push('destroy'); setImmediate(() => attached?.onCarrierClose()) },
    destroyed: false,
    localAddress: () => undefined,
    remoteAddress: () => undefined,
    ...overrides({ calls, events })
  }
  return { carrier, calls, events }
}
