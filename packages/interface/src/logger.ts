/**
 * A logger as the SDK uses it: silent by default, switched on per component with the `PROTO_DEBUG`
 * environment variable (`PROTO_DEBUG=*` or `PROTO_DEBUG=transport,heartbeat`), or replaced wholesale with
 * {@link setLoggerFactory} (pino, winston, console …).
 */
export interface Logger {
  /** Whether `debug` output goes anywhere; check it before building expensive messages. */
  readonly enabled: boolean
  debug(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

/** Makes the logger for one component, e.g. `'transport'` or `'heartbeat'`. */
export type LoggerFactory = (component: string) => Logger

/** The environment variable that switches debug logging on. */
export const DEBUG_ENV = 'PROTO_DEBUG'

const noop = (): void => {}

/** A logger that writes nothing. */
export const silentLogger: Logger = { enabled: false, debug: noop, error: noop }

function envEnabled (component: string): boolean {
  const spec = globalThis.process?.env?.[DEBUG_ENV]
  if (spec == null || spec === '') return false
  return spec.split(',').map(s => s.trim()).some(s => s === '*' || s === component || s === `proto:${component}`)
}

function defaultFactory (component: string): Logger {
  if (!envEnabled(component)) return silentLogger
  const prefix = `proto:${component}`
  return {
    enabled: true,
    debug: (message, ...args) => { console.error(`${prefix} ${message}`, ...args) },
    error: (message, ...args) => { console.error(`${prefix} ERROR ${message}`, ...args) }
  }
}

let factory: LoggerFactory = defaultFactory

/** Replaces how every @proto component gets its logger. Pass `undefined` to go back to `PROTO_DEBUG`. */
export function setLoggerFactory (next: LoggerFactory | undefined): void {
  factory = next ?? defaultFactory
}

/**
 * Returns the logger for `component`. Components resolve their logger when a connection or stage is
 * created, so a factory set before that takes effect.
 */
export function createLogger (component: string): Logger {
  return factory(component)
}
