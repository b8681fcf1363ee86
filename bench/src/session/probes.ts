/**
 * Two session probes, each a pair of worker-side handler sets:
 * - recovery: the server (listener and connections) goes away while a client streams; its sessions stay in
 *   memory; when it listens again, how long until the client's connection is back, its session resumed,
 *   and the first item it replays has reached the server's application;
 * - idle memory: what one idle connection costs the server, plain (heartbeat and codec) and as a session,
 *   live and detached (its client gone, the session kept for its ttl).
 */
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { BackoffInit } from '@proto/reconnect'
import type { SessionDuplex, SessionServer } from '@proto/session'
import { sessionClient, sessionServer } from '@proto/session'
import { collectGarbage } from '@proto/stage-compliance/memory'
import type { Connection, Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { HOST } from '../lib/net-util.js'
import { pushable } from '../lib/pushable.js'

/** What one outage measured, in ms from the moment the server listened again. */
export interface Recovery { accept: number, resumed: number, first: number }

let rc: { server: SessionServer, tcp: Server | undefined, port: number, up: number, accepted: number, resumed: number, first: number, notify: () => void } | undefined

async function rcListen (): Promise<number> {
  const state = rc as NonNullable<typeof rc>
  state.tcp = await listen({ host: HOST, port: state.port }, async (conn) => {
    if (state.accepted === 0) state.accepted = performance.now()
    await state.server.handle(conn)
  })
  state.port = (state.tcp.address as { port: number }).port
  return state.port
}

export const recoveryServerHandlers = {
  async 'rc.listen' (): Promise<number> {
    const server = sessionServer()
    rc = { server, tcp: undefined, port: 0, up: 0, accepted: 0, resumed: 0, first: 0, notify: () => {} }
    const state = rc
    server.addEventListener('session', (e) => {
      const session = e.detail
      session.addEventListener('connected', () => { if (state.up > 0 && state.resumed === 0) state.resumed = performance.now() })
      void (async () => {
        for await (const _ of session.source) {
          if (state.up > 0 && state.first === 0) { state.first = performance.now(); state.notify() }
        }
      })().catch(() => {})
    })
    return await rcListen()
  },
  async 'rc.down' (): Promise<void> {
    const state = rc as NonNullable<typeof rc>
    await state.tcp?.close({ deadline: 0 })
    state.up = 0
  },
  async 'rc.up' (): Promise<Recovery> {
    const state = rc as NonNullable<typeof rc>
    state.accepted = state.resumed = state.first = 0
    state.up = performance.now()
    await rcListen()
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no replayed item within 20 s')) }, 20_000)
      state.notify = () => { clearTimeout(timer); resolve() }
    })
    return { accept: state.accepted - state.up, resumed: state.resumed - state.up, first: state.first - state.up }
  },
  async 'rc.stop' (): Promise<void> {
    rc?.server.abort(new Error('probe over'))
    await rc?.tcp?.close({ deadline: 0 })
    rc = undefined
  }
}

let rcClient: { session: SessionDuplex, items: ReturnType<typeof pushable<Frame>>, delays: number[], timer: NodeJS.Timeout } | undefined

export const recoveryClientHandlers = {
  async 'rc.start' ({ port, backoff }: { port: number, backoff: BackoffInit }): Promise<void> {
    const session = sessionClient(async ({ signal }) => await connect({ host: HOST, port }, { signal }), backoff)
    const items = pushable<Frame>()
    const delays: number[] = []
    session.addEventListener('reconnecting', (e) => { delays.push(e.detail.delay) })
    void session.sink(items).catch(() => {})
    void (async () => { for await (const _ of session.source) { /* nothing comes back */ } })().catch(() => {})
    // a steady trickle: while the server is away the items wait, and are replayed when it is back
    const body = new Uint8Array(32)
    const timer = setInterval(() => { items.push({ type: 0x40, body }) }, 5)
    rcClient = { session, items, delays, timer }
    await new Promise<void>((resolve) => { session.addEventListener('connected', () => { resolve() }, { once: true }) })
  },
  'rc.delays' (): number[] {
    return rcClient?.delays.splice(0) ?? []
  },
  async 'rc.stop' (): Promise<{ reconnects: number, resumes: number }> {
    const c = rcClient
    if (c === undefined) return { reconnects: 0, resumes: 0 }
    clearInterval(c.timer)
    c.items.end()
    const s = c.session.stats()
    c.session.abort(new Error('probe over'))
    rcClient = undefined
    return { reconnects: s.link.reconnects, resumes: s.resumes }
  }
}

// ---- idle memory ---------------------------------------------------------------------------------

let idle: { tcp: Server, server?: SessionServer, kept: unknown[] } | undefined

export const idleServerHandlers = {
  async 'idle.listen' ({ kind }: { kind: 'plain' | 'session' }): Promise<number> {
    const kept: unknown[] = []
    const server = kind === 'session' ? sessionServer() : undefined
    server?.addEventListener('session', (e) => {
      kept.push(e.detail)
      void (async () => { for await (const _ of e.detail.source) { /* idle */ } })().catch(() => {})
    })
    const tcp = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
      if (server !== undefined) { await server.handle(conn); return }
      const link = heartbeat(codec(conn))
      kept.push(link)
      void link.sink(pushable<Frame>()).catch(() => {})
      void (async () => { for await (const _ of link.source) { /* idle */ } })().catch(() => {})
    })
    idle = { tcp, ...(server !== undefined ? { server } : {}), kept }
    return (tcp.address as { port: number }).port
  },
  'idle.measure' (): { heap: number, connections: number, sessions: number, detached: number } {
    collectGarbage()
    const s = idle?.server?.stats()
    return { heap: process.memoryUsage().heapUsed, connections: idle?.tcp.connections.size ?? 0, sessions: s?.sessions ?? 0, detached: s?.detached ?? 0 }
  },
  async 'idle.close' (): Promise<void> {
    idle?.server?.abort(new Error('probe over'))
    await idle?.tcp.close({ deadline: 0 })
    idle = undefined
  }
}

let idleClients: { close(): void, drop(): void } | undefined

export const idleClientHandlers = {
  async 'idle.open' ({ port, kind, count }: { port: number, kind: 'plain' | 'session', count: number }): Promise<void> {
    const conns: Connection[] = []
    const closers: Array<() => void> = []
    for (let batch = 0; batch < count; batch += 100) {
      await Promise.all(Array.from({ length: Math.min(100, count - batch) }, async () => {
        if (kind === 'plain') {
          const conn = await connect({ host: HOST, port })
          conns.push(conn)
          const link = heartbeat(codec(conn))
          void link.sink(pushable<Frame>()).catch(() => {})
          void (async () => { for await (const _ of link.source) { /* idle */ } })().catch(() => {})
          closers.push(() => { link.abort(new Error('probe over')) })
          return
        }
        // one connection each: once it is dropped the client gives up at once, leaving a detached session
        const session = sessionClient(async ({ signal }) => {
          const conn = await connect({ host: HOST, port }, { signal })
          conns.push(conn)
          return conn
        }, { maxAttempts: 1, minStableTime: Infinity })
        void session.sink(pushable<Frame>()).catch(() => {})
        void (async () => { for await (const _ of session.source) { /* idle */ } })().catch(() => {})
        closers.push(() => { session.abort(new Error('probe over')) })
        await new Promise<void>((resolve) => { session.addEventListener('connected', () => { resolve() }, { once: true }) })
      }))
    }
    idleClients = {
      close: () => { for (const c of closers) c() },
      drop: () => { for (const c of conns) c.abort(new Error('dropped')) }
    }
  },
  /** Resets every client's TCP connection without a word: the server's sessions are left detached. */
  'idle.drop' (): void { idleClients?.drop() },
  'idle.close' (): void {
    idleClients?.close()
    idleClients = undefined
  }
}
