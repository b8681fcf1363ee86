import { codec, formats } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { connect } from '@proto/transport'

/**
 * Opens a @proto link to a peer that speaks `'!BI'` framing with its own ping (0x01) and pong (0x02),
 * both with empty bodies, and no HELLO or GOAWAY. The whole adaptation is options.
 */
export async function connectLegacy (port: number, timing: { interval: number, timeout: number }): Promise<HeartbeatDuplex> {
  const conn = await connect({ host: '127.0.0.1', port })
  return heartbeat(codec(conn, { format: formats.structBI }), {
    ...timing,
    pingType: 0x01,
    pongType: 0x02,
    pingBody: new Uint8Array(0), // its pings are empty; pongs are matched in order for the RTT
    pongBody: new Uint8Array(0),
    goAwayType: null // it has no GOAWAY
  })
}
