/**
 * Everything the suite can run, by name: receivers (server side) and senders/echo clients (client side).
 * The orchestrator picks by name; the two worker processes look the names up here.
 */
import { listenLp, sendLp } from './baseline/lp.js'
import type { SendInit } from './baseline/net.js'
import { echoRaw, listenBulk, listenEcho, listenFramed, sendBatched, sendBulk, sendEachWrite } from './baseline/net.js'
import type { Listening } from './lib/listening.js'
import { netListener } from './lib/listening.js'
import type { RunResult } from './lib/net-util.js'
import { sessionEchoClients, sessionReceivers, sessionSenders } from './session/variants.js'
import { stackEchoClients, stackReceivers, stackSenders } from './stack/variants.js'

/** Receivers, by kind; one of each is started per run and shared by the variants that name it. */
export const receivers: Record<string, () => Promise<Listening>> = {
  framed: async () => await netListener(listenFramed),
  bulk: async () => await netListener(listenBulk),
  lp: async () => await netListener(listenLp),
  echo: async () => await netListener(listenEcho),
  ...stackReceivers,
  ...sessionReceivers
}

export interface Sender {
  /** Receiver kind it talks to. */
  receiver: string
  send(init: SendInit): Promise<RunResult>
}

/** Throughput senders, by variant name. */
export const senders: Record<string, Sender> = {
  'net-write': { receiver: 'framed', send: sendEachWrite },
  'net-batch': { receiver: 'framed', send: sendBatched },
  'net-bulk': { receiver: 'bulk', send: sendBulk },
  lp: { receiver: 'lp', send: async init => await sendLp(init, false) },
  'lp-cork': { receiver: 'lp', send: async init => await sendLp(init, true) },
  ...stackSenders,
  ...sessionSenders
}

export interface EchoClient {
  receiver: string
  echo(port: number, size: number, count: number, warmup: number): Promise<Float64Array>
}

/** Echo clients, by variant name. */
export const echoClients: Record<string, EchoClient> = {
  net: { receiver: 'echo', echo: echoRaw },
  ...stackEchoClients,
  ...sessionEchoClients
}
