import { afterEach, describe, expect, it } from 'vitest'
import type { RawPeer } from './helpers/peers.js'
import { packBI, startRawPeer } from './helpers/peers.js'
import { runProto, startProto } from './helpers/proto.js'

let peer: RawPeer | undefined
afterEach(async () => { await peer?.close() })

/** A '!BI' server whose first connection is reset right after answering its first frame. */
async function startFlakyPeer (): Promise<RawPeer> {
  return await startRawPeer({
    split: (p) => {
      if (p.length < 5 || p.length < 5 + p.readUInt32BE(1)) return undefined
      const length = p.readUInt32BE(1)
      return { frame: [p.subarray(0, 1), p.subarray(5, 5 + length)], rest: p.subarray(5 + length) }
    },
    onFrame: ([type, body], socket, connection) => {
      if (type![0] !== 0x00) return
      socket.write(packBI(0x00, `${connection}:${body!.toString()}`))
      if (connection === 1) setTimeout(() => { socket.resetAndDestroy() }, 20)
    }
  })
}

describe('proto connect --reconnect', () => {
  it('redials after the server resets the connection, reports it on stderr, and carries on', async () => {
    peer = await startFlakyPeer()
    const p = startProto(['connect', `127.0.0.1:${peer.port}`, '-f', 'structBI', '--reconnect', '--initial-delay', '20ms', '--max-delay', '100ms'], { keepStdin: true })
    await p.waitForStderr(/connected to/)
    p.child.stdin.write('one\n')
    await p.waitForStderr(/^proto: connection lost \(read-error\) after sending 1 frame on it: ConnectionResetError/m)
    await p.waitForStderr(/^proto: reconnecting in \d+ ms, attempt 2$/m)
    await p.waitForStderr(/^proto: connected to 127\.0\.0\.1:\d+ \(structBI, heartbeat 15s\/45s\), attempt 2$/m)
    p.child.stdin.end('two\n')
    const exit = await p.exit()
    expect(exit.code).toBe(0)
    expect(p.stdout()).toEqual(Buffer.from('1:one\n2:two\n'))
    expect(peer.accepted).toBe(2)
    // at most once: the frame on the lost connection is counted as possibly lost, though this one made it
    expect(p.stderr()).toMatch(/^proto: 1 frame went out on connections that were lost before they finished: they may not have arrived/m)
    expect(p.stderr()).not.toMatch(/never sent/)
  })

  it('gives up after --max-attempts with ReconnectFailedError, exit 1', async () => {
    const r = await runProto(['connect', '127.0.0.1:9', '--reconnect', '--initial-delay', '10ms', '--max-delay', '20ms', '--max-attempts', '3'], { stdin: 'x\n' })
    expect(r.code).toBe(1)
    expect(r.stderr.match(/^proto: reconnecting in \d+ ms, attempt \d: ConnectionRefusedError: /gm)?.length).toBe(2)
    expect(r.stderr).toMatch(/^proto: error: ReconnectFailedError: .*\(caused by ConnectionRefusedError: /m)
    expect(r.stderr).toMatch(/^proto: 1 frame never sent: still waiting for a connection when the command ended$/m)
  })
})
