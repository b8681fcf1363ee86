import { afterEach, describe, expect, it } from 'vitest'
import type { RawPeer } from './helpers/peers.js'
import { packInt32, startRawPeer } from './helpers/peers.js'
import { startProto } from './helpers/proto.js'

/** How long the peer lets a connection sit without receiving anything before it closes it, in ms. */
const PEER_IDLE_LIMIT = 2_000

/**
 * A `[u32be length][body]` server with no ping in its protocol, as such servers are written: it echoes
 * every frame (empty ones too, if `echo`) and closes a connection from which nothing came for
 * `PEER_IDLE_LIMIT` ms. Counts the empty frames it received.
 */
async function startIdleClosingPeer (options: { echo: boolean }): Promise<RawPeer & { empties: () => number, idleClosed: () => number }> {
  let empties = 0
  let idleClosed = 0
  const peer = await startRawPeer({
    split: p => p.length >= 4 && p.length >= 4 + p.readUInt32BE(0) ? { frame: [p.subarray(4, 4 + p.readUInt32BE(0))], rest: p.subarray(4 + p.readUInt32BE(0)) } : undefined,
    onConnection: (socket) => {
      socket.setTimeout(PEER_IDLE_LIMIT, () => { idleClosed++; socket.destroy() })
      socket.on('data', () => { socket.setTimeout(PEER_IDLE_LIMIT) }) // only what we receive counts, as with a middlebox
    },
    onFrame: ([body], socket) => {
      if (body!.length === 0) empties++
      if (options.echo) socket.write(packInt32(Buffer.from(body!)))
    }
  })
  return Object.assign(peer, { empties: () => empties, idleClosed: () => idleClosed })
}

let peer: (RawPeer & { empties: () => number, idleClosed: () => number }) | undefined
afterEach(async () => { await peer?.close() })

describe('proto connect --format int32 --keepalive empty', () => {
  it('without it, the peer closes an idle connection (the control)', async () => {
    peer = await startIdleClosingPeer({ echo: true })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32'], { keepStdin: true })
    await p.waitForStderr(/the peer closed the connection/, PEER_IDLE_LIMIT + 5_000)
    expect(peer.idleClosed()).toBe(1)
    await p.exit()
  })

  it('stays connected for several seconds to a peer that closes idle connections; its echoed keep-alives never reach stdout', async () => {
    peer = await startIdleClosingPeer({ echo: true })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '--keepalive', 'empty', '--interval', '500ms'], { keepStdin: true })
    await p.waitForStderr(/connected/)
    expect(p.stderr()).toMatch(/^proto: connected to 127\.0\.0\.1:\d+ \(int32, empty-frame keep-alive 500ms\/off\)$/m)
    const connectedAt = performance.now()
    // several idle limits of the peer go by (12 keep-alives take 6 s); wait on its count, not on a clock
    while (peer.empties() < 12) {
      expect(peer.idleClosed()).toBe(0)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(performance.now() - connectedAt).toBeGreaterThan(2 * PEER_IDLE_LIMIT)
    expect(peer.accepted).toBe(1)
    expect(p.stderr()).not.toMatch(/closed/)
    p.child.stdin.end('bye\n')
    expect((await p.exit()).code).toBe(0)
    expect(p.stdout()).toEqual(Buffer.from('bye\n')) // an empty frame would print as an empty line
    expect(peer.idleClosed()).toBe(0)
    // on the wire: keep-alives are 4-byte zero lengths, then our one frame
    const wire = Buffer.concat(peer.rawIn)
    expect(wire.subarray(-packInt32('bye').length)).toEqual(packInt32('bye'))
    expect(wire.subarray(0, -packInt32('bye').length)).toEqual(Buffer.alloc(4 * peer.empties()))
  })

  it('with --timeout, judges a peer that stays silent dead: exit 1 with HeartbeatTimeoutError', async () => {
    peer = await startIdleClosingPeer({ echo: false })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'int32', '--keepalive', 'empty', '--interval', '200ms', '--timeout', '1s'], { keepStdin: true })
    expect((await p.exit()).code).toBe(1)
    expect(p.stderr()).toMatch(/^proto: error: HeartbeatTimeoutError: expected a frame from the peer at least every 1000 ms, but none came for \d+ ms/m)
    expect(peer.empties()).toBeGreaterThanOrEqual(3)
    expect(peer.idleClosed()).toBe(0)
  })
})
