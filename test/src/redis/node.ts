/**
 * One server node for the scale-out tests, run as its own process (`fork`, or a `runCluster` worker): a
 * session server on a Redis store whose application answers every `c<i>` with `s<i>`, and appends what it
 * took to `$LEDGER_DIR/<node>.log` with a synchronous write, so the ledger survives a SIGKILL.
 * With PUSH_COUNT set, the application instead writes the stream `p1`…`p<PUSH_COUNT>` (each followed by a
 * space and PUSH_PAD dots) to every session,
 * starting after the session's `written` (so a session restored on another node carries on where the
 * store says), and logs `from <k>` and `wrote <k>` (each item once the session took it) to its ledger.
 * Environment: REDIS_URL, PORT (0 = any), NODE_NAME, LEDGER_DIR, PERSIST_INTERVAL, NODE_TTL, HANDOVER_TIMEOUT, PUSH_COUNT, PUSH_PAD, WINDOW_BYTES (the session window: what a session sends unacknowledged), ACK_DELAY (ms).
 * On SIGTERM it stops accepting, hands every session to the store (clients resume elsewhere) and exits.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Frame } from '@proto/codec'
import { sessionServer } from '@proto/session'
import { redisStore, workerReady } from '@proto/session-redis'
import { listen } from '@proto/transport'

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback
  if (v === undefined) throw new Error(`expected the environment variable ${name}`)
  return v
}
const name = `${env('NODE_NAME', 'node')}${process.env.PROTO_WORKER_INDEX ?? ''}-${process.pid}`
const ledger = join(env('LEDGER_DIR'), `${name}.log`)
const store = redisStore({
  redis: env('REDIS_URL'),
  prefix: 'e2e:',
  nodeId: name,
  persistInterval: Number(env('PERSIST_INTERVAL', '10')),
  nodeTtl: Number(env('NODE_TTL', '600')),
  handoverTimeout: Number(env('HANDOVER_TIMEOUT', '500'))
})
await store.ready()
const windowBytes = process.env.WINDOW_BYTES
const ackDelay = process.env.ACK_DELAY
const server = sessionServer({
  store,
  ttl: 30_000,
  heartbeat: { interval: 250, timeout: 2_000 },
  ...(windowBytes !== undefined ? { window: { maxBytes: Number(windowBytes) } } : {}),
  ...(ackDelay !== undefined ? { ack: { delay: Number(ackDelay) } } : {})
})
const pushCount = Number(env('PUSH_COUNT', '0'))
const pad = '.'.repeat(Number(env('PUSH_PAD', '0')))
server.addEventListener('session', ({ detail: session }) => {
  if (pushCount > 0) {
    // a stream the application can produce again by number: it carries on from what the session holds
    const from = (session.written ?? 0) + 1
    appendFileSync(ledger, `from ${from}\n`)
    const stream = async function * (): AsyncGenerator<Frame> {
      for (let k = from; k <= pushCount; k++) {
        yield { type: 0x40, body: new TextEncoder().encode(`p${k} ${pad}`) }
        appendFileSync(ledger, `wrote ${k}\n`)
        if (k % 20 === 0) await new Promise(resolve => setTimeout(resolve, 4))
      }
    }
    session.sink(stream()).catch(() => {})
    return
  }
  const answers = async function * (): AsyncGenerator<Frame> {
    for await (const f of session.source) {
      const text = new TextDecoder().decode(f.body)
      appendFileSync(ledger, `${text}\n`)
      yield { type: 0x40, body: new TextEncoder().encode(`s${text.slice(1)}`) }
    }
  }
  session.sink(answers()).catch(() => {})
})
const tcp = await listen({ host: '127.0.0.1', port: Number(env('PORT', '0')) }, async (conn) => { await server.handle(conn) })
const port = (tcp.address as { port: number }).port

process.once('SIGTERM', () => {
  const closing = tcp.close({ deadline: 2_000 })
  store.drain().then(async (n) => {
    await new Promise<void>((resolve) => { if (process.send === undefined) resolve(); else process.send({ type: 'drained', sessions: n }, () => { resolve() }) })
    await closing
    await store.close()
    process.exit(0)
  }, () => { process.exit(1) })
})

if (process.env.PROTO_WORKER_INDEX !== undefined) workerReady({ port, name })
else process.send?.({ type: 'ready', port, name })
