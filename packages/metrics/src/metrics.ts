import type { Attributes, BatchObservableResult, Meter, MeterProvider, Observable } from '@opentelemetry/api'
import { metrics, ValueType } from '@opentelemetry/api'
import { validate } from '@proto/interface'
import { Attribute, DEFAULT_METER_NAME, Instrument, RTT_BUCKETS } from './names.js'
import { Lingering, type Reading, seriesKey, Tally } from './tally.js'
import type { ByteCounters, LinkCounters, MeteredConnection, MeteredHeartbeat, MeteredLink, MeteredServer, MeteredSession, MeteredSessionServer } from './targets.js'

/** Options of {@link protoMetrics}. */
export interface ProtoMetricsInit {
  /**
   * Where the instruments are made.
   * @default the global provider (`metrics.getMeterProvider()` of `@opentelemetry/api`) as it is when
   * `protoMetrics()` is called: register the SDK's provider first, or pass it here
   */
  meterProvider?: MeterProvider
  /**
   * The meter's name (the instrumentation scope).
   * @default '@proto/metrics'
   */
  meterName?: string
  /** Attributes added to every measurement (e.g. `{ 'proto.node': 'a' }`). @default {} */
  attributes?: Attributes
}

/** Options of each `track` method. */
export interface TrackOptions {
  /**
   * Attributes of this object's measurements. Objects tracked with equal attributes add up into one
   * series: track every link with none for process-wide totals, or give each a name of its own
   * (`{ 'proto.link': 'orders' }`) for series per link. Keep their number bounded: each distinct set is a
   * series for the life of the process.
   * @default {}
   */
  attributes?: Attributes
}

/** Stops tracking one object; what it counted stays in the totals. Idempotent. */
export type Untrack = () => void

/**
 * OpenTelemetry instruments over the SDK's objects. Each method starts tracking one object and returns
 * the function that stops it; an object stops by itself when it ends (a server's `close`, a connection
 * gone, a stage's or link's `closed`). Counters are read from the objects' own `stats()` at collection
 * time (nothing is added on the data path); only the RTT histogram and event counters are recorded as
 * their events happen.
 */
export interface ProtoMetrics {
  /** A listening server: connections open, accepted, rejected and closed; bytes of all its connections. */
  server(server: MeteredServer, options?: TrackOptions): Untrack
  /** One connection (e.g. a client's): open while it lives, its bytes, how it closed. */
  connection(connection: MeteredConnection, options?: TrackOptions): Untrack
  /** A heartbeat stage: RTT histogram, pings both ways, dead-peer timeouts. */
  heartbeat(heartbeat: MeteredHeartbeat, options?: TrackOptions): Untrack
  /** A durable link: reconnects, its items by outcome (handed, confirmed, dropped, unconfirmed…) and pending. */
  link(link: MeteredLink, options?: TrackOptions): Untrack
  /** A session end: its frames both ways, replays, resumes, sessions lost, and its link's instruments. */
  session(session: MeteredSession, options?: TrackOptions): Untrack
  /** A session server: sessions now (connected, detached), created, resumed, expired, refused. */
  sessionServer(server: MeteredSessionServer, options?: TrackOptions): Untrack
  /** How many objects are tracked now. */
  readonly tracked: number
  /** Untracks everything and removes the instruments' callback. Idempotent. */
  close(): void
}

const GAUGES = new Set<string>([Instrument.connectionsOpen, Instrument.linkPending, Instrument.sessionsActive])

const IN = seriesKey(Instrument.bytes, Attribute.direction, 'in')
const OUT = seriesKey(Instrument.bytes, Attribute.direction, 'out')
const OPEN = seriesKey(Instrument.connectionsOpen)

function byteReading (stats: ByteCounters): Reading {
  return [[IN, stats.bytesIn], [OUT, stats.bytesOut]]
}

const LINK_OUTCOMES = ['handed', 'replayed', 'confirmed', 'unconfirmed', 'flushed', 'dropped', 'cleared', 'rejected', 'unsent'] as const
const LINK_PENDING = [['waiting', 'waiting'], ['buffered', 'buffered'], ['inFlight', 'in-flight'], ['retained', 'retained']] as const
const OUTCOME_KEYS = LINK_OUTCOMES.map(name => [name, seriesKey(Instrument.linkItems, Attribute.outcome, name)] as const)
const PENDING_KEYS = LINK_PENDING.map(([field, name]) => [field, seriesKey(Instrument.linkPending, Attribute.state, name)] as const)

function linkReading (stats: LinkCounters, into: Reading = []): Reading {
  into.push([seriesKey(Instrument.reconnects), stats.reconnects])
  for (const [field, key] of OUTCOME_KEYS) into.push([key, stats[field]])
  for (const [field, key] of PENDING_KEYS) into.push([key, stats[field]])
  return into
}

// Readers of a closed object held weakly (`Lingering`): made here, not in the method that tracks, so that
// they close over nothing of it (a closure shares its function's context, which holds the object).
const SESSION_KEYS = {
  in: seriesKey(Instrument.sessionFrames, Attribute.direction, 'in'),
  out: seriesKey(Instrument.sessionFrames, Attribute.direction, 'out'),
  resent: seriesKey(Instrument.sessionReplays, Attribute.outcome, 'resent'),
  deduplicated: seriesKey(Instrument.sessionReplays, Attribute.outcome, 'deduplicated'),
  resumes: seriesKey(Instrument.sessionResumes)
}

/** `fn`, called at most once. */
function once (fn: () => void): () => void {
  let called = false
  return () => {
    if (called) return
    called = true
    fn()
  }
}

function readLink (link: MeteredLink): Reading {
  return linkReading(link.stats())
}

function readSession (session: MeteredSession): Reading {
  const s = session.stats()
  const k = SESSION_KEYS
  return linkReading(s.link, [[k.in, s.delivered], [k.out, s.sent], [k.resent, s.resent], [k.deduplicated, s.deduplicated], [k.resumes, s.resumes]])
}

/**
 * Refuses, with `InvalidParametersError`, a target that lacks what tracking it reads (`stats()`, event
 * listeners, `closed`, `connections`): tracked, it would fail every later collection, and with it the
 * series of every other object.
 */
function checkTarget (what: string, target: unknown, needs: { stats?: boolean, events?: boolean, closed?: boolean, connections?: boolean }): void {
  const t = target as Record<string, unknown> | null
  const isObject = t !== null && typeof t === 'object'
  const has = {
    stats: isObject && typeof t.stats === 'function',
    events: isObject && typeof t.addEventListener === 'function' && typeof t.removeEventListener === 'function',
    closed: isObject && typeof (t.closed as Promise<unknown> | undefined)?.then === 'function',
    connections: isObject && typeof (t.connections as Iterable<unknown> | undefined)?.[Symbol.iterator] === 'function'
  }
  const parts = { stats: 'stats()', events: 'addEventListener()/removeEventListener()', closed: 'a closed promise', connections: 'connections (iterable)' }
  const wanted = (Object.keys(parts) as Array<keyof typeof parts>).filter(k => needs[k] === true)
  const missing = wanted.filter(k => !has[k])
  if (missing.length === 0) return
  validate.invalid(what, `an object with ${wanted.map(k => parts[k]).join(', ')}`, target, isObject ? `it lacks ${missing.map(k => parts[k]).join(', ')}` : undefined)
}

/** Runs `fn` once, when `target` dispatches `type`, unless `signal` aborts first. */
function on (target: EventTarget, type: string, signal: AbortSignal, fn: (detail: unknown) => void): void {
  target.addEventListener(type, (event) => { fn((event as CustomEvent<unknown>).detail) }, { signal })
}

class Metrics implements ProtoMetrics {
  readonly #tally = new Tally(instrument => GAUGES.has(instrument))
  readonly #untracks = new Set<Untrack>()
  /** Retires a closed link or session once it was collected (see `Lingering`). */
  readonly #gone = new FinalizationRegistry<() => void>((retire) => { retire() })
  readonly #attributes: Attributes
  readonly #meter: Meter
  readonly #observables: Map<string, Observable>
  readonly #callback = (result: BatchObservableResult): void => { this.observe(result) }
  readonly #accepted
  readonly #rejected
  readonly #closed
  readonly #timeouts
  readonly #rtt
  readonly #lost
  readonly #lostItems
  #open = true

  constructor (init: ProtoMetricsInit) {
    validate.options('init', init)
    const provider = validate.hook('meterProvider', init.meterProvider, 'getMeter') ?? metrics.getMeterProvider()
    if (init.meterName !== undefined && (typeof init.meterName !== 'string' || init.meterName === '')) validate.invalid('meterName', 'a non-empty string', init.meterName)
    this.#meter = provider.getMeter(init.meterName ?? DEFAULT_METER_NAME)
    this.#attributes = { ...validate.options('attributes', init.attributes) }
    const m = this.#meter
    const int = { valueType: ValueType.INT }
    this.#accepted = m.createCounter(Instrument.connectionsAccepted, { ...int, unit: '{connection}', description: 'Connections a server accepted' })
    this.#rejected = m.createCounter(Instrument.connectionsRejected, { ...int, unit: '{connection}', description: 'Connections a server refused or lost before accepting them, by reason' })
    this.#closed = m.createCounter(Instrument.connectionsClosed, { ...int, unit: '{connection}', description: 'Connections that went away, by reason' })
    this.#timeouts = m.createCounter(Instrument.heartbeatTimeouts, { ...int, unit: '{timeout}', description: 'Peers the heartbeat declared dead' })
    this.#rtt = m.createHistogram(Instrument.rtt, { unit: 's', description: 'Round-trip time of heartbeat pings', advice: { explicitBucketBoundaries: [...RTT_BUCKETS] } })
    this.#lost = m.createCounter(Instrument.sessionsLost, { ...int, unit: '{session}', description: 'Sessions that could not be resumed, by reason' })
    this.#lostItems = m.createCounter(Instrument.sessionLostItems, { ...int, unit: '{item}', description: 'Unacknowledged items of sessions that could not be resumed' })
    const counter = (name: string, unit: string, description: string): Observable => m.createObservableCounter(name, { ...int, unit, description })
    const gauge = (name: string, unit: string, description: string): Observable => m.createObservableUpDownCounter(name, { ...int, unit, description })
    this.#observables = new Map<string, Observable>([
      [Instrument.connectionsOpen, gauge(Instrument.connectionsOpen, '{connection}', 'Connections open now')],
      [Instrument.bytes, counter(Instrument.bytes, 'By', 'Bytes read (in) and written (out) on connections')],
      [Instrument.pings, counter(Instrument.pings, '{ping}', 'Heartbeat pings sent (out) and received (in)')],
      [Instrument.reconnects, counter(Instrument.reconnects, '{connection}', 'Connections a durable link made after its first')],
      [Instrument.linkItems, counter(Instrument.linkItems, '{item}', 'Items of durable links, by outcome')],
      [Instrument.linkPending, gauge(Instrument.linkPending, '{item}', 'Items durable links hold now, by state')],
      [Instrument.sessionFrames, counter(Instrument.sessionFrames, '{frame}', 'Session frames handed to the application (in) and written to a connection (out)')],
      [Instrument.sessionReplays, counter(Instrument.sessionReplays, '{frame}', 'Session frames written again after a resume (resent) and replays dropped (deduplicated)')],
      [Instrument.sessionResumes, counter(Instrument.sessionResumes, '{session}', 'Sessions resumed on a new connection')],
      [Instrument.sessionsActive, gauge(Instrument.sessionsActive, '{session}', 'Sessions a session server keeps now, by state')],
      [Instrument.sessionServerOutcomes, counter(Instrument.sessionServerOutcomes, '{session}', 'Sessions a session server created, resumed, took over, expired or evicted')],
      [Instrument.sessionsRefused, counter(Instrument.sessionsRefused, '{connection}', 'Connections a session server refused, by reason')]
    ])
    m.addBatchObservableCallback(this.#callback, [...this.#observables.values()])
  }

  get tracked (): number {
    return this.#untracks.size
  }

  server (server: MeteredServer, options?: TrackOptions): Untrack {
    checkTarget('server', server, { events: true, connections: true })
    const attrs = this.attributes(options)
    const connections = new Map<unknown, Untrack>()
    const follow = (conn: { stats(): ByteCounters }): void => {
      const live = { final: undefined as ByteCounters | undefined, read: (): Reading => [[OPEN, 1], ...byteReading(live.final ?? conn.stats())] }
      const stop = this.#tally.add(attrs, live)
      connections.set(conn, (final?: ByteCounters) => { live.final = final; stop() })
    }
    return this.track((signal) => {
      for (const conn of server.connections) follow(conn)
      on(server, 'connection', signal, (conn) => {
        this.#accepted.add(1, attrs)
        follow(conn as { stats(): ByteCounters })
      })
      on(server, 'disconnect', signal, (detail) => {
        const { connection, info } = detail as { connection: unknown, info: { reason: string, stats: ByteCounters } }
        this.#closed.add(1, { ...attrs, [Attribute.reason]: info.reason })
        const stop = connections.get(connection) as ((final?: ByteCounters) => void) | undefined
        connections.delete(connection)
        stop?.(info.stats)
      })
      on(server, 'drop', signal, (detail) => {
        this.#rejected.add(1, { ...attrs, [Attribute.reason]: (detail as { reason: string }).reason })
      })
      return () => {
        for (const stop of connections.values()) stop()
        connections.clear()
      }
    }, (untrack, signal) => { on(server, 'close', signal, untrack) })
  }

  connection (connection: MeteredConnection, options?: TrackOptions): Untrack {
    checkTarget('connection', connection, { stats: true, closed: true })
    const attrs = this.attributes(options)
    return this.track(() => this.#tally.add(attrs, { read: () => [[OPEN, 1], ...byteReading(connection.stats())] }), (untrack, signal) => {
      void connection.closed.then((info) => {
        if (signal.aborted) return
        this.#closed.add(1, { ...attrs, [Attribute.reason]: info.reason })
        untrack()
      })
    })
  }

  heartbeat (heartbeat: MeteredHeartbeat, options?: TrackOptions): Untrack {
    checkTarget('heartbeat', heartbeat, { stats: true, events: true })
    const attrs = this.attributes(options)
    const sent = seriesKey(Instrument.pings, Attribute.direction, 'out')
    const received = seriesKey(Instrument.pings, Attribute.direction, 'in')
    return this.track((signal) => {
      on(heartbeat, 'rtt', signal, (detail) => { this.#rtt.record((detail as { rtt: number }).rtt / 1000, attrs) })
      on(heartbeat, 'timeout', signal, () => { this.#timeouts.add(1, attrs) })
      return this.#tally.add(attrs, {
        read: () => {
          const stats = heartbeat.stats()
          return [[sent, stats.pingsSent], [received, stats.pingsReceived]]
        }
      })
    }, (untrack, signal) => { on(heartbeat, 'closed', signal, untrack) })
  }

  link (link: MeteredLink, options?: TrackOptions): Untrack {
    checkTarget('link', link, { stats: true, events: true })
    const attrs = this.attributes(options)
    const live = new Lingering(link, readLink)
    return this.track(() => this.#tally.add(attrs, live), (_untrack, signal, release) => {
      on(link, 'closed', signal, () => { live.weaken(this.#gone, release()) })
    })
  }

  session (session: MeteredSession, options?: TrackOptions): Untrack {
    checkTarget('session', session, { stats: true, events: true })
    const attrs = { ...this.attributes(options), [Attribute.role]: session.stats().role }
    const live = new Lingering(session, readSession)
    return this.track((signal) => {
      on(session, 'session-lost', signal, (detail) => {
        const { reason, unconfirmed } = detail as { reason: string, unconfirmed: number }
        this.#lost.add(1, { ...attrs, [Attribute.reason]: reason })
        this.#lostItems.add(unconfirmed, attrs)
      })
      return this.#tally.add(attrs, live)
    }, (_untrack, signal, release) => { on(session, 'closed', signal, () => { live.weaken(this.#gone, release()) }) })
  }

  sessionServer (server: MeteredSessionServer, options?: TrackOptions): Untrack {
    checkTarget('sessionServer', server, { stats: true })
    const attrs = this.attributes(options)
    const outcome = (name: string): string => seriesKey(Instrument.sessionServerOutcomes, Attribute.outcome, name)
    const state = (name: string): string => seriesKey(Instrument.sessionsActive, Attribute.state, name)
    return this.track(() => this.#tally.add(attrs, {
      read: () => {
        const s = server.stats()
        const reading: Reading = [
          [state('connected'), s.sessions - s.detached], [state('detached'), s.detached],
          [outcome('created'), s.created], [outcome('resumed'), s.resumed], [outcome('takeover'), s.takeovers],
          [outcome('expired'), s.expired], [outcome('evicted'), s.evicted]
        ]
        for (const [reason, n] of Object.entries(s.refused)) reading.push([seriesKey(Instrument.sessionsRefused, Attribute.reason, reason), n])
        return reading
      }
    }), () => {})
  }

  close (): void {
    if (!this.#open) return
    this.#open = false
    for (const untrack of [...this.#untracks]) untrack()
    this.#meter.removeBatchObservableCallback(this.#callback, [...this.#observables.values()])
  }

  /**
   * The tracking skeleton: `start` begins reading (listeners bound to `signal`) and returns how to stop;
   * `endWhen` arranges the object's own end to untrack it, or to `release()` it: its listeners go and it
   * is no longer counted as tracked, and `release()` returns the stop for its caller to call later (a
   * closed object read while it lives, see `Lingering`). Untracking is idempotent.
   */
  private track (start: (signal: AbortSignal) => () => void, endWhen: (untrack: Untrack, signal: AbortSignal, release: () => () => void) => void): Untrack {
    if (!this.#open) throw new MetricsClosedError()
    const controller = new AbortController()
    let stop: () => void
    try {
      stop = start(controller.signal)
    } catch (err) {
      controller.abort() // listeners added before the throw go with it: nothing stays tracked
      throw err
    }
    // made apart: a closed object's registry keeps it, and nothing of this context (the controller's
    // signal holds the object's listeners, which hold the object)
    const stopOnce = once(stop)
    const release = (): (() => void) => {
      controller.abort()
      this.#untracks.delete(untrack)
      return stopOnce
    }
    const untrack = (): void => {
      release()
      stopOnce()
    }
    this.#untracks.add(untrack)
    try {
      endWhen(untrack, controller.signal, release)
    } catch (err) {
      untrack()
      throw err
    }
    return untrack
  }

  private attributes (options: TrackOptions | undefined): Attributes {
    if (options !== undefined) validate.options('options', options)
    return { ...this.#attributes, ...validate.options('options.attributes', options?.attributes) }
  }

  private observe (result: BatchObservableResult): void {
    for (const [series, attributes, value] of this.#tally.collect()) {
      const observable = this.#observables.get(series.instrument)
      if (observable !== undefined) result.observe(observable, value, { ...attributes, ...series.attributes })
    }
  }
}

/** Thrown when an object is tracked after `close()`. */
export class MetricsClosedError extends Error {
  static override name = 'MetricsClosedError'

  constructor () {
    super('These metrics were closed: nothing more can be tracked. Make a new protoMetrics() to track again')
    this.name = 'MetricsClosedError'
  }
}

/**
 * OpenTelemetry metrics for the SDK's servers, connections, heartbeats, links and sessions, through
 * `@opentelemetry/api`: without an SDK registered every instrument is a no-op and nothing is read.
 */
export function protoMetrics (init: ProtoMetricsInit = {}): ProtoMetrics {
  return new Metrics(init)
}
