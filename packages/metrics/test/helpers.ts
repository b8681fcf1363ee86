import type { Attributes } from '@opentelemetry/api'
import type { Histogram } from '@opentelemetry/sdk-metrics'
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'

/** A reader collected on demand (what an exporter's scrape does). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush (): Promise<void> {}
  protected override async onShutdown (): Promise<void> {}
}

/** One data point: a counter's value, or a histogram's count and sum. */
export interface Point {
  name: string
  unit: string
  attributes: Attributes
  value: number
  histogram?: Histogram
}

export interface Sdk {
  provider: MeterProvider
  scrape(): Promise<Point[]>
  shutdown(): Promise<void>
}

/** A real OpenTelemetry SDK meter provider with a reader collected on demand. */
export function sdk (): Sdk {
  const reader = new OnDemandReader()
  const provider = new MeterProvider({ readers: [reader] })
  return {
    provider,
    async scrape () {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      const points: Point[] = []
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const dp of metric.dataPoints) {
            const { name, unit } = metric.descriptor
            if (metric.dataPointType === DataPointType.HISTOGRAM) {
              const histogram = dp.value as Histogram
              points.push({ name, unit, attributes: dp.attributes, value: histogram.count, histogram })
            } else {
              points.push({ name, unit, attributes: dp.attributes, value: dp.value as number })
            }
          }
        }
      }
      return points
    },
    async shutdown () { await provider.shutdown() }
  }
}

/** The sum of `name`'s points whose attributes include `attrs`. */
export function value (points: Point[], name: string, attrs: Attributes = {}): number {
  return points
    .filter(p => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0)
}

/** The points of `name`. */
export function series (points: Point[], name: string): Point[] {
  return points.filter(p => p.name === name)
}

/** Polls `check` every 5 ms until it holds, for at most `ms`. */
export async function until (check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
