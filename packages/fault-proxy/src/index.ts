/**
 * @packageDocumentation
 *
 * A seeded fault-injecting TCP proxy for loopback, to test a client and a server against a hostile
 * network (the `@proto` chaos suite, the demo and the `proto proxy` command use it). Put it between a client
 * and a server and it cuts connections (FIN or reset),
 * black-holes them (sockets stay open, nothing gets through), adds delay, throttles, re-slices bytes into
 * random pieces or coalesces them, and refuses new connections — on command or on a random schedule that
 * is reproducible from its seed.
 *
 * @example
 *
 * ```ts
 * import { startFaultProxy } from '@proto/fault-proxy'
 *
 * const proxy = await startFaultProxy({
 *   target: { host: '127.0.0.1', port: server.port },
 *   seed: 42,
 *   faults: { cutEvery: [500, 2000], blackHoleEvery: [1000, 3000], blackHoleFor: [200, 800], fragment: { min: 1, max: 1460 } },
 *   onEvent: (event) => { if (event.type === 'cut') console.log('cut', event.mode) }
 * })
 * // dial proxy.address instead of the server …
 * proxy.blackHole(1000) // or drive faults by hand
 * console.log(proxy.stats())
 * await proxy.close()
 * ```
 */

export {
  DEFAULT_BLACK_HOLE_HOLD_BYTES, DEFAULT_FIN_LINGER_MS, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_FAULTS
} from './constants.js'
export { InvalidParametersError } from './errors.js'
export { startFaultProxy } from './fault-proxy.js'
export type { Random } from './random.js'
export { randomSeed, seededRandom } from './random.js'
export { faultSchedule, planSchedule } from './schedule.js'
export type { Throttle } from './throttle.js'
export { createThrottle } from './throttle.js'
export type {
  CloseReason, CutMode, FaultAction, FaultEvent, FaultPlan, FaultProxy, FaultProxyInit, FaultProxyStats,
  FaultProxyTarget, FaultProxyTargetChooser, Fragmentation, LinkSettings, MsRange
} from './types.js'
export { isLoopback } from './validate.js'
