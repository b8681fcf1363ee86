import type { Attributes } from '@opentelemetry/api'
import { createLogger } from '@proto/interface'

const log = createLogger('metrics')

/** One measurement of a tracked object: a series key (see {@link seriesKey}) and its value. */
export type Reading = Array<readonly [key: string, value: number]>

/** A tracked object, read at each collection. */
export interface Live {
  read(): Reading
}

/**
 * `live.read()`, or nothing if that throws: one object whose `stats()` throws must not fail the whole
 * collection and drop every other object's series with it. It is left out of that collection and logged
 * (its last reading is not kept: that would cost every tracked connection an array for good).
 */
function readOf (live: Live): Reading {
  try {
    return live.read()
  } catch (err) {
    log.error('reading a tracked object failed; it is left out of this collection: %s', err instanceof Error ? err.message : String(err))
    return []
  }
}

/**
 * A tracked object that may still count after it closed (a session's or a link's source still hands the
 * application what had arrived, and counts it): read as long as it is alive, strongly held until
 * `weaken()`, weakly after, so that tracking does not keep a closed object alive. Its last reading is kept
 * for when it is gone (the `FinalizationRegistry` given to `weaken()` then retires it).
 */
export class Lingering<T extends object> implements Live {
  #strong: T | undefined
  #weak: WeakRef<T> | undefined
  #last: Reading = []

  constructor (target: T, private readonly reader: (target: T) => Reading) {
    this.#strong = target
  }

  read (): Reading {
    const target = this.#strong ?? this.#weak?.deref()
    if (target !== undefined) this.#last = this.reader(target)
    return this.#last
  }

  /** Holds the object weakly from now on; `gone` calls `retire` once it was collected. */
  weaken (gone: FinalizationRegistry<() => void>, retire: () => void): void {
    const target = this.#strong
    if (target === undefined) return
    this.#last = readOf(this)
    this.#strong = undefined
    this.#weak = new WeakRef(target)
    gone.register(target, retire)
  }
}

const SEP = '\u0000'

/** The key of a series: an instrument, plus at most one attribute of its own (e.g. the direction). */
export function seriesKey (instrument: string, attribute?: string, value?: string): string {
  return attribute === undefined ? instrument : `${instrument}${SEP}${attribute}${SEP}${value ?? ''}`
}

/** A series key split again: its instrument and its own attributes. */
export interface Series {
  instrument: string
  attributes: Attributes
}

function parseKey (key: string): Series {
  const [instrument, attribute, value] = key.split(SEP)
  return { instrument, attributes: attribute === undefined ? {} : { [attribute]: value } }
}

/**
 * The objects tracked with one set of attributes: their live readings add up into one series per key, and
 * what objects that went away had counted stays in `retired`, so a cumulative series never goes down.
 */
export class Group {
  readonly live = new Set<Live>()
  readonly retired = new Map<string, number>()

  constructor (readonly attributes: Attributes) {}

  /** Sums of every series: what went away plus what the live objects read now. */
  totals (): Map<string, number> {
    const sums = new Map(this.retired)
    for (const live of this.live) {
      for (const [key, value] of readOf(live)) sums.set(key, (sums.get(key) ?? 0) + value)
    }
    return sums
  }
}

/**
 * Every tracked object, grouped by attributes. Gauges (`isGauge`) are current values: an object that goes
 * away stops adding to them. Every other series is cumulative: its last reading is kept.
 */
export class Tally {
  readonly #groups = new Map<string, Group>()
  readonly #series = new Map<string, Series>()

  constructor (private readonly isGauge: (instrument: string) => boolean) {}

  /** Starts reading `live` with `attributes`; the returned function stops it (idempotent). */
  add (attributes: Attributes, live: Live): () => void {
    const group = this.group(attributes)
    group.live.add(live)
    return () => {
      if (!group.live.delete(live)) return
      // a gauge stays reported, at what the others still hold (0 when none), instead of going stale
      for (const [key, value] of readOf(live)) group.retired.set(key, (group.retired.get(key) ?? 0) + (this.isGauge(this.series(key).instrument) ? 0 : value))
    }
  }

  /** Every series with its attributes and value now. */
  * collect (): Generator<[Series, Attributes, number]> {
    for (const group of this.#groups.values()) {
      for (const [key, value] of group.totals()) yield [this.series(key), group.attributes, value]
    }
  }

  private group (attributes: Attributes): Group {
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    let group = this.#groups.get(key)
    if (group === undefined) {
      group = new Group(attributes)
      this.#groups.set(key, group)
    }
    return group
  }

  private series (key: string): Series {
    let series = this.#series.get(key)
    if (series === undefined) {
      series = parseKey(key)
      this.#series.set(key, series)
    }
    return series
  }
}
