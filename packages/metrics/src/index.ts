/**
 * @packageDocumentation
 *
 * OpenTelemetry metrics for the SDK: connections, bytes, heartbeat RTT and timeouts, reconnects, link
 * items by outcome, and sessions, server-wide or per link, through `@opentelemetry/api`.
 */
export type { ProtoMetrics, ProtoMetricsInit, TrackOptions, Untrack } from './metrics.js'
export { MetricsClosedError, protoMetrics } from './metrics.js'
export { Attribute, DEFAULT_METER_NAME, Instrument, RTT_BUCKETS } from './names.js'
export type { ByteCounters, ConnectionSet, CountedConnection, DisconnectReason, LinkCounters, MeteredConnection, MeteredHeartbeat, MeteredLink, MeteredServer, MeteredSession, MeteredSessionServer, PingCounters, SessionCounters, SessionServerCounters } from './targets.js'
export { InvalidParametersError } from '@proto/interface'
