import { codec, formats } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { connect } from '@proto/transport'

/** The keep-alive of a `'!BI'` peer: its frame types and timing, in milliseconds. */
export interface LegacyKeepAlive {
  interval: number
  timeout: number
  /** @default 0x01 */
  pingType?: number
  /** @default 0x02 */
  pongType?: number
}

/**
 * Opens a @proto link to a peer that speaks `'!BI'` framing with its own ping (0x01) and pong (0x02),
 * both with empty bodies, and no HELLO or GOAWAY. The whole adaptation is options.
 */
export async function connectLegacy (target: { host: string, port: number }, keepAlive: LegacyKeepAlive): Promise<HeartbeatDuplex> {
  const conn = await connect({ host: target.host, port: target.port })
  return heartbeat(codec(conn, { format: formats.structBI }), {
    interval: keepAlive.interval,
    timeout: keepAlive.timeout,
    pingType: keepAlive.pingType ?? 0x01,
    pongType: keepAlive.pongType ?? 0x02,
    pingBody: new Uint8Array(0), // its pings are empty; pongs are matched in order for the RTT
    pongBody: new Uint8Array(0),
    goAwayType: null // it has no GOAWAY
  })
}
