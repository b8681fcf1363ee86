/**
 * @packageDocumentation
 *
 * The @proto stage contract written once, as a Vitest suite that every stage package runs against its
 * own stage. A package describes how to build a connected pair and how to make sample items; the suite
 * checks ordering, error propagation through `it-pipe`, half-close versus abort, backpressure and cleanup.
 *
 * @example
 *
 * ```ts
 * import { stageCompliance } from '@proto/stage-compliance'
 *
 * stageCompliance('codec over a memory pair', {
 *   boundaries: true,
 *   async setup () { … return { a, b } },
 *   item: (i, size) => ({ type: 0, body: new Uint8Array(size).fill(i) }),
 *   bytes: (frame) => frame.body
 * })
 * ```
 */
export type { ComplianceHarness, StagePair } from './harness.js'
export type { Cleanups } from './leak-check.js'
export { cleanupsWithLeakCheck } from './leak-check.js'
export type { LossyRelay } from './lossy-relay.js'
export { lossyRelay } from './lossy-relay.js'
export type { MemoryBytePair, MemoryBytePairInit } from './memory-pair.js'
export { memoryBytePair } from './memory-pair.js'
export type { RedisServer } from './redis-server.js'
export { freePort, redisServerTool, startRedisServer } from './redis-server.js'
export { socketDuplex } from './socket-duplex.js'
export { stageCompliance } from './suite.js'
export type { SystemTool } from './system-tools.js'
export { canRun, commandTool, pathTool } from './system-tools.js'
export type { Settled } from './util.js'
export { collect, countOver, errorChain, hasInChain, heapPerObject, resourceSnapshot, settle, waitForResources } from './util.js'
export { hexBytes, markdownTable } from './vectors.js'
