/**
 * Helpers of the end-to-end stack tests: a recording full-stack server, a full-stack streaming client,
 * the message format they share, and the ledger check of the delivery guarantee. The fault proxy they
 * run under is `@proto/fault-proxy`.
 */
export type { ClientConnection, StackClientInit } from './client.js'
export { StackClient } from './client.js'
export type { DeliveryReport, LedgerInput } from './ledger.js'
export { checkLedger } from './ledger.js'
export { MESSAGE_HEADER, MESSAGE_TYPE, messageBody, readMessage } from './message.js'
export type { Arrival, ServerConnectionRecord, StackServerInit } from './server.js'
export { StackServer } from './server.js'
export { Waiter } from './waiter.js'
