import createDebug from 'debug'

/**
 * A logger as the SDK uses it: silent by default, switched on per component with the usual `DEBUG`
 * environment variable (`DEBUG=proto:*`, `DEBUG=proto:transport,proto:heartbeat`, `DEBUG=proto:*,-proto:codec`)
 * through the `debug` library, so namespaces, wildcards, exclusions, colours and timestamps work as in any
 * other Node library. Replace it wholesale with {@link setLoggerFactory} (pino, winston, console …).
 */
export interface Logger {
  /** Whether `debug` output goes anywhere; check it before building expensive messages. */
  readonly enabled: boolean
  /** A debug line; `printf`-style formatting (`%s`, `%d`, `%o`, `%O`, `%j`). */
  debug(message: string, ...args: unknown[]): void
  /** A failure worth a line, marked `ERROR`; shown whenever the component's debug output is. */
  error(message: string, ...args: unknown[]): void
}

/** Makes the logger for one component, e.g. `'transport'` or `'heartbeat'`. */
export type LoggerFactory = (component: string) => Logger

/**
 * An alias of `DEBUG` for `@proto` alone: `PROTO_DEBUG=*` or `PROTO_DEBUG=transport,heartbeat` mean
 * `DEBUG=proto:*` and `DEBUG=proto:transport,proto:heartbeat`; it adds to what `DEBUG` enables.
 */
export const DEBUG_ENV = 'PROTO_DEBUG'

/** The namespace prefix of every `@proto` logger. */
export const NAMESPACE = 'proto'

const noop = (): void => {}

/** A logger that writes nothing. */
export const silentLogger: Logger = { enabled: false, debug: noop, error: noop }

/** `PROTO_DEBUG`'s entries as `debug` namespaces: `*` → `proto:*`, `transport` → `proto:transport`, `-codec` → `-proto:codec`. */
export function protoDebugNamespaces (spec: string): string {
  return spec.split(/[\s,]+/).filter(s => s !== '').map((entry) => {
    const negated = entry.startsWith('-')
    const name = negated ? entry.slice(1) : entry
    const ns = name.startsWith(`${NAMESPACE}:`) ? name : `${NAMESPACE}:${name}`
    return negated ? `-${ns}` : ns
  }).join(',')
}

/** What `DEBUG` said when the process started (`debug.enable()` overwrites `process.env.DEBUG`). */
const initialDebug = globalThis.process?.env?.DEBUG ?? ''
let appliedProtoDebug = ''

/** Enables what `PROTO_DEBUG` asks for, on top of `DEBUG`, whenever its value changed since last time. */
function applyProtoDebug (): void {
  const spec = globalThis.process?.env?.[DEBUG_ENV] ?? ''
  if (spec === appliedProtoDebug) return
  appliedProtoDebug = spec
  createDebug.enable([initialDebug, protoDebugNamespaces(spec)].filter(s => s !== '').join(','))
}

/** One logger per component, shared by every connection (a `debug` instance re-reads what is enabled). */
const loggers = new Map<string, Logger>()

function defaultFactory (component: string): Logger {
  applyProtoDebug()
  let logger = loggers.get(component)
  if (logger == null) {
    const log = createDebug(`${NAMESPACE}:${component}`)
    logger = {
      get enabled () { return log.enabled },
      debug: (message, ...args) => { log(message, ...args) },
      error: (message, ...args) => { log(`ERROR ${message}`, ...args) }
    }
    loggers.set(component, logger)
  }
  return logger
}

let factory: LoggerFactory = defaultFactory

/**
 * Replaces how every `@proto` component gets its logger. Pass `undefined` to go back to `DEBUG`/`PROTO_DEBUG`.
 * The package exports it checked (`logger-factory.ts`); this module imports nothing of the package's own.
 */
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
