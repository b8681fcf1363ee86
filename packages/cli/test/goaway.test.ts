import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { RawPeer } from './helpers/peers.js'
import { packGoAway, packProto, startProtoPeer } from './helpers/peers.js'
import { runProto, startProto, startServer } from './helpers/proto.js'

let peer: RawPeer | undefined
afterEach(async () => { await peer?.close() })

describe('proto connect: a peer that sends GOAWAY and ends its side', () => {
  it.each<[string, number, string, number, RegExp | undefined]>([
    ['SHUTTING_DOWN: an orderly end, exit 0', 3, 'restart', 0, undefined],
    ['IDLE_TIMEOUT: an orderly end, exit 0', 4, '', 0, undefined],
    ['DO_NOT_RETRY: refused for good, exit 1', 5, 'banned', 1, /^proto: error: GoAwayError: The peer sent GOAWAY DO_NOT_RETRY \("banned"\) and ended the connection; do not reconnect$/m],
    ['PROTOCOL_ERROR: closed for something we did, exit 1', 1, 'protocol_error', 1, /^proto: error: GoAwayError: The peer sent GOAWAY PROTOCOL_ERROR \("protocol_error"\) and ended the connection; reconnect after a backoff$/m]
  ])('%s', async (_what, code, reason, exitCode, error) => {
    peer = await startProtoPeer({ sendFirst: packGoAway(code, reason), endAfterFirst: true })
    const p = startProto(['connect', `127.0.0.1:${peer.port}`], { keepStdin: true }) // our input never ends: the peer ends the exchange
    expect((await p.exit()).code).toBe(exitCode)
    const names = ['NORMAL', 'PROTOCOL_ERROR', 'TOO_MANY_PINGS', 'SHUTTING_DOWN', 'IDLE_TIMEOUT', 'DO_NOT_RETRY']
    expect(p.stderr()).toContain(`proto: the peer is going away: GOAWAY ${code} ${names[code]}${reason !== '' ? ` (${reason})` : ''}\n`)
    expect(p.stdout().length).toBe(0) // the GOAWAY is not a frame of the exchange
    if (error === undefined) {
      expect(p.stderr()).toMatch(/^proto: the peer closed the connection$/m)
      expect(p.stderr()).not.toMatch(/error/)
    } else {
      expect(p.stderr()).toMatch(error)
    }
  })

  it('--reconnect redials after SHUTTING_DOWN, and gives up at once after DO_NOT_RETRY', async () => {
    peer = await startProtoPeer({ sendFirst: packGoAway(3, 'restart'), endAfterFirst: true })
    const again = startProto(['connect', `127.0.0.1:${peer.port}`, '--reconnect', '--initial-delay', '20ms', '--max-delay', '50ms'], { keepStdin: true })
    await again.waitForStderr(/(?:connection lost \(read-error\): GoAwayError: The peer sent GOAWAY SHUTTING_DOWN[^]*){2}/)
    expect(peer.accepted).toBeGreaterThanOrEqual(2)
    again.child.kill('SIGINT')
    expect((await again.exit()).code).toBe(130)
    await peer.close()

    peer = await startProtoPeer({ sendFirst: packGoAway(5, 'banned'), endAfterFirst: true })
    const final = await runProto(['connect', `127.0.0.1:${peer.port}`, '--reconnect', '--initial-delay', '20ms'], { stdin: 'x\n' })
    expect(final.code).toBe(1)
    expect(final.stderr).toMatch(/^proto: error: ReconnectFailedError: .*GoAwayError: The peer sent GOAWAY DO_NOT_RETRY \("banned"\)/m)
    expect(final.stderr).not.toMatch(/reconnecting in/)
    expect(peer.accepted).toBe(1)
  })
})

describe('proto listen: a client that sends GOAWAY', () => {
  it('SHUTTING_DOWN then FIN is shown on stderr and ends the connection in order; the frames before it are echoed', async () => {
    const { proc, port } = await startServer(['listen', '0', '--echo'])
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    const got: Buffer[] = []
    client.on('data', (c: Buffer) => got.push(c))
    const ended = new Promise<void>((resolve) => { client.on('end', () => { resolve() }) })
    await new Promise(resolve => client.once('connect', resolve))
    client.end(Buffer.concat([packProto(0x00, 'last'), packGoAway(3, 'bye')]))
    await ended
    expect(Buffer.concat(got)).toEqual(packProto(0x00, 'last'))
    await proc.waitForStderr(/\[s1\] closed \(closed\)/)
    expect(proc.stderr()).toMatch(/^proto: \[s1\] the peer is going away: GOAWAY 3 SHUTTING_DOWN \(bye\)$/m)
    expect(proc.stdout()).toEqual(Buffer.from('last\n'))
    client.destroy()
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })
})
