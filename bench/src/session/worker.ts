/**
 * A worker of the session benchmark: `node session/worker.js server` hosts the receivers, `node
 * session/worker.js client` the senders. The orchestrator (`session/run.js`) drives both over IPC.
 */
import type { SendInit } from '../baseline/net.js'
import { serveRequests } from '../lib/ipc.js'
import { stackReceivers, stackSenders } from '../stack/variants.js'
import type { Listening } from '../variants.js'
import { idleClientHandlers, idleServerHandlers, recoveryClientHandlers, recoveryServerHandlers } from './probes.js'
import { sendSession, sessionReceiver } from './variants.js'

const role = process.argv[2]

if (role === 'server') {
  const open = new Map<string, Listening>()
  const receivers: Record<string, () => Promise<Listening>> = { off: stackReceivers.proto, on: sessionReceiver }
  serveRequests({
    async listen ({ kind }: { kind: string }) {
      const existing = open.get(kind)
      if (existing !== undefined) return existing.port
      const l = await receivers[kind]()
      open.set(kind, l)
      return l.port
    },
    async closeAll () {
      await Promise.all([...open.values()].map(async (l) => { await l.close() }))
      open.clear()
    },
    ...recoveryServerHandlers,
    ...idleServerHandlers
  })
} else if (role === 'client') {
  serveRequests({
    async send ({ variant, ...init }: SendInit & { variant: 'off' | 'on' | 'on-1k' }) {
      if (variant === 'on') return await sendSession(init)
      if (variant === 'on-1k') return await sendSession(init, 1_024)
      return await stackSenders.proto.send(init)
    },
    ...recoveryClientHandlers,
    ...idleClientHandlers
  })
} else {
  throw new Error('usage: node session/worker.js server|client (started by session/run.js)')
}
