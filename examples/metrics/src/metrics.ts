/**
 * @packageDocumentation
 *
 * An @proto echo server and a reconnecting client, both tracked by `@proto/metrics`, with the OpenTelemetry
 * SDK's Prometheus exporter serving every instrument in the Prometheus text format at `/metrics` on an HTTP
 * server of our own.
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { codec, type Frame, FrameType } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { type ProtoMetrics, protoMetrics } from '@proto/metrics'
import { type DurableDuplex, reconnect } from '@proto/reconnect'
import { connect, listen, type Server } from '@proto/transport'
import { pipe } from 'it-pipe'

/** Where to listen. */
export interface ObservedServerInit {
  /** The echo server's port. @default 0 (a free port) */
  port?: number
  /** The HTTP port of `/metrics`. @default 0 (a free port) */
  metricsPort?: number
  /** Heartbeat interval, ms. @default 1000 */
  interval?: number
}

/** A running echo server with its metrics endpoint. */
export interface ObservedServer {
  readonly server: Server
  readonly port: number
  /** `http://127.0.0.1:<port>/metrics` */
  readonly metricsUrl: string
  /** The instruments: track more objects with it (the client's link, say). */
  readonly metrics: ProtoMetrics
  close(): Promise<void>
}

/** Starts an echo server (transport + codec + heartbeat) whose connections and heartbeats are measured. */
export async function startObservedServer (init: ObservedServerInit = {}): Promise<ObservedServer> {
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const provider = new MeterProvider({ readers: [exporter] })
  const metrics = protoMetrics({ meterProvider: provider })
  const interval = init.interval ?? 1_000
  const server = await listen({ host: '127.0.0.1', port: init.port ?? 0 }, async (conn) => {
    const frames = heartbeat(codec(conn), { interval, timeout: interval * 3 })
    metrics.heartbeat(frames, { attributes: { 'proto.side': 'server' } })
    await pipe(frames, frames)
  })
  metrics.server(server)
  const http: HttpServer = createServer((req, res) => {
    if (req.url === '/metrics') exporter.getMetricsRequestHandler(req, res)
    else res.writeHead(404).end('not found: try /metrics\n')
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(init.metricsPort ?? 0, '127.0.0.1', () => { resolve() })
  })
  return {
    server,
    port: (server.address as { port: number }).port,
    metricsUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`,
    metrics,
    async close () {
      await server.close({ deadline: 1_000 })
      await new Promise<void>((resolve) => { http.close(() => { resolve() }) })
      metrics.close()
      await provider.shutdown()
    }
  }
}

/** A reconnecting client of `port` whose link is tracked by `metrics` as `proto.link="client"`. */
export function observedClient (port: number, metrics: ProtoMetrics): DurableDuplex<Frame> {
  const link = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: '127.0.0.1', port }, { signal })), { interval: 1_000 }))
  metrics.link(link, { attributes: { 'proto.link': 'client' } })
  return link
}

/**
 * Sends `count` text frames through `link` and reads their echoes, then keeps the link open `linger` ms
 * (heartbeats go on) before ending its writing; resolves with the number echoed once the link has ended.
 */
export async function exchange (link: DurableDuplex<Frame>, count: number, linger = 0): Promise<number> {
  let echoed = 0
  const reading = (async () => {
    for await (const _ of link.source) if (++echoed === count) return
  })()
  const texts = Array.from({ length: count }, (_, i) => ({ type: FrameType.DATA, body: new TextEncoder().encode(`message ${i}`) }))
  const writing = link.sink((async function * () {
    yield * texts
    await reading // keep the link open until every echo is back
    await new Promise(resolve => setTimeout(resolve, linger))
  })())
  await reading
  await writing
  return echoed
}
