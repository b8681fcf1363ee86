import { describe, expect, it } from 'vitest'
import type { ProtoProcess } from './helpers/proto.js'
import { runProto, startProto, startServer } from './helpers/proto.js'

/**
 * `--max-peer-timeout` with real sockets, `proto` against `proto`. With `--hello` each side adopts the
 * larger of its own timeout and the one the peer's HELLO asks for; a HELLO asking for more than
 * `--max-peer-timeout` is refused with GOAWAY DO_NOT_RETRY (`unusable_heartbeat`) instead. The timeouts
 * are seconds apart, and nothing here waits on one: a refusal comes with the HELLO.
 */

/** A client whose HELLO asks for a 20 s timeout: more than any bound below allows. */
const LAZY = ['--hello', '--interval', '2s', '--timeout', '20s']

async function stop (server: ProtoProcess): Promise<void> {
  server.child.kill('SIGINT')
  expect((await server.exit()).code).toBe(130)
}

describe('proto listen --max-peer-timeout', () => {
  it('refuses a client whose HELLO asks for a longer timeout: the client gets GOAWAY DO_NOT_RETRY (unusable_heartbeat) and exits 1; a client at the bound is served', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', '--hello', '--interval', '1s', '--timeout', '3s', '--max-peer-timeout', '5s'])
    // stdin stays open: our side never ends by itself, so the connection ending is the refusal's doing
    const refused = startProto(['connect', `127.0.0.1:${port}`, ...LAZY], { keepStdin: true })
    expect((await refused.exit()).code).toBe(1)
    expect(refused.stderr()).toMatch(/^proto: the peer is going away: GOAWAY 5 DO_NOT_RETRY \(unusable_heartbeat\)$/m)
    expect(refused.stderr()).toMatch(/^proto: error: GoAwayError: The peer sent GOAWAY DO_NOT_RETRY \("unusable_heartbeat"\) and ended the connection; do not reconnect$/m)
    expect(refused.stdout().length).toBe(0)
    await server.waitForStderr(/^proto: \[s1\] closed \(aborted\): ProtocolVersionError: The peer's HELLO asks for a timeout of 20000 ms, longer than maxPeerTimeout \(5000 ms\) allows/m)

    // 5 s is not longer than 5 s: accepted, and the exchange runs as usual
    const served = await runProto(['connect', `127.0.0.1:${port}`, '--hello', '--interval', '1s', '--timeout', '5s'], { stdin: 'hi\n' })
    expect(served.stderr).not.toMatch(/GOAWAY|error/)
    expect(served.code).toBe(0)
    expect(served.stdout).toEqual(Buffer.from('hi\n'))
    await server.waitForStderr(/^proto: \[s2\] closed \(closed\)$/m)
    expect(server.stderr()).not.toMatch(/\[s2\][^\n]*(?:ProtocolVersionError|going away)/)
    await stop(server)
  })

  it('a bound at or above the timeout asked for, or none (the default: 4 × --timeout, at least 3 minutes), serves the same client', async () => {
    for (const bound of [['--max-peer-timeout', '20s'], ['--max-peer-timeout', 'never'], []]) {
      const { proc: server, port } = await startServer(['listen', '0', '--echo', '--hello', '--interval', '1s', '--timeout', '3s', ...bound])
      const served = await runProto(['connect', `127.0.0.1:${port}`, ...LAZY], { stdin: 'hi\n' })
      expect(served.code, bound.join(' ')).toBe(0)
      expect(served.stdout).toEqual(Buffer.from('hi\n'))
      expect(served.stderr).not.toMatch(/GOAWAY|error/)
      await stop(server)
    }
  })
})

describe('proto connect --max-peer-timeout', () => {
  it('refuses a server whose HELLO asks for a longer timeout: exit 1 with ProtocolVersionError, and the server is sent GOAWAY DO_NOT_RETRY (unusable_heartbeat)', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', ...LAZY])
    const client = startProto(['connect', `127.0.0.1:${port}`, '--hello', '--interval', '1s', '--timeout', '4s', '--max-peer-timeout', '5s'], { keepStdin: true })
    expect((await client.exit()).code).toBe(1)
    expect(client.stderr()).toMatch(/^proto: error: ProtocolVersionError: The peer's HELLO asks for a timeout of 20000 ms, longer than maxPeerTimeout \(5000 ms\) allows/m)
    await server.waitForStderr(/^proto: \[s1\] the peer is going away: GOAWAY 5 DO_NOT_RETRY \(unusable_heartbeat\)$/m)
    await stop(server)
  })

  it('--reconnect gives up at once instead of redialling; --max-peer-timeout never accepts the same server', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', ...LAZY])
    const bounded = ['connect', `127.0.0.1:${port}`, '--hello', '--interval', '1s', '--timeout', '4s']
    const final = startProto([...bounded, '--max-peer-timeout', '5s', '--reconnect', '--initial-delay', '20ms'], { keepStdin: true })
    expect((await final.exit()).code).toBe(1)
    expect(final.stderr()).toMatch(/^proto: error: ReconnectFailedError: .*ProtocolVersionError: The peer's HELLO asks for a timeout of 20000 ms/m)
    expect(final.stderr()).not.toMatch(/reconnecting in/)
    await server.waitForStderr(/\[s1\] closed/)

    const unbounded = await runProto([...bounded, '--max-peer-timeout', 'never'], { stdin: 'hi\n' })
    expect(unbounded.code).toBe(0)
    expect(unbounded.stdout).toEqual(Buffer.from('hi\n'))
    await server.waitForStderr(/\[s2\] closed \(closed\)/)
    expect(server.stderr()).not.toMatch(/\[s3\]/) // the reconnecting client dialled once
    await stop(server)
  })
})

describe('proto bench --max-peer-timeout', () => {
  it('refuses a server whose HELLO asks for a longer timeout: exit 1 with ProtocolVersionError', async () => {
    const { proc: server, port } = await startServer(['listen', '0', '--echo', '--output', 'none', ...LAZY])
    const r = await runProto(['bench', `127.0.0.1:${port}`, '--count', '10', '--warmup', '0', '--hello', '--interval', '1s', '--timeout', '4s', '--max-peer-timeout', '5s'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^proto: error: ProtocolVersionError: The peer's HELLO asks for a timeout of 20000 ms, longer than maxPeerTimeout \(5000 ms\) allows/m)
    expect(r.stdout.length).toBe(0)
    await stop(server)
  })
})
