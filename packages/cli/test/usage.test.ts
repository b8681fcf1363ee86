import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BIN, runProto } from './helpers/proto.js'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string, bin: Record<string, string> }
const version = pkg.version

describe('the executable', () => {
  it("package.json's bin is the built file the tests run, a Node script with a shebang", () => {
    expect(fileURLToPath(new URL(`../${pkg.bin.proto}`, import.meta.url))).toBe(BIN)
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
  })
})

describe('help and version', () => {
  it('proto --help lists the commands on stdout; proto alone prints it on stderr with exit 2', async () => {
    const help = await runProto(['--help'])
    expect(help.code).toBe(0)
    const text = help.stdout.toString()
    for (const c of ['connect HOST:PORT', 'listen [HOST:]PORT', 'bench HOST:PORT', 'proxy LISTEN TARGET']) expect(text).toContain(`  ${c}`)
    expect(text).toContain('Exit codes:')
    const bare = await runProto([])
    expect(bare.code).toBe(2)
    expect(bare.stdout.length).toBe(0)
    expect(bare.stderr).toContain('Usage: proto <command>')
  })

  it('--help on every command, and proto help <command>', async () => {
    for (const command of ['connect', 'listen', 'bench', 'proxy']) {
      const r = await runProto([command, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout.toString()).toMatch(new RegExp(`^Usage: proto ${command} `))
      expect(r.stdout.toString()).toContain('Exit codes:')
      expect(r.stderr).toBe('')
    }
    const viaHelp = await runProto(['help', 'bench'])
    expect(viaHelp.stdout.toString()).toMatch(/^Usage: proto bench HOST:PORT/)
  })

  it('--version prints the package version', async () => {
    const r = await runProto(['--version'])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout.toString()).toBe(`${version}\n`)
  })
})

describe('usage errors: exit 2, one line and where to read more', () => {
  const cases: Array<[string[], RegExp]> = [
    [['frob'], /^proto: unknown command 'frob'; the commands are connect, listen, bench, proxy\nRun 'proto --help' for usage\.\n$/],
    [['--interval', '5s'], /^proto: expected a command before options, but got '--interval'\n/],
    [['connect'], /^proto: expected HOST:PORT after 'proto connect', but HOST:PORT is missing\nRun 'proto connect --help' for usage\.\n$/],
    [['connect', '127.0.0.1:7000', 'extra'], /^proto: expected HOST:PORT after 'proto connect', but unexpected 'extra'\n/],
    [['connect', 'localhost'], /^proto: expected HOST:PORT to be 'HOST:PORT', '\[IPv6\]:PORT' or 'unix:PATH', but got 'localhost'; e\.g\. '127\.0\.0\.1:7000'\n/],
    [['connect', '127.0.0.1:70000'], /^proto: expected HOST:PORT to be a port from 1 to 65535, but got '127\.0\.0\.1:70000'\n/],
    [['connect', '127.0.0.1:7000', '--bogus'], /^proto: unknown option '--bogus'\nRun 'proto connect --help' for usage\.\n$/],
    [['connect', '127.0.0.1:7000', '--intervall', '1s'], /^proto: unknown option '--intervall'; did you mean '--interval'\?\n/],
    [['connect', '127.0.0.1:7000', '--interval'], /^proto: option '--interval' needs a value\n/],
    [['connect', '127.0.0.1:7000', '--interval', '-5s'], /^proto: option '--interval' needs a value, but '-5s' after it starts with '-' and reads as an option; if it is the value, write --interval=-5s\n/],
    [['connect', '127.0.0.1:7000', '--interval=-5s'], /^proto: expected --interval to be a duration such as 500ms, 5s or 1m, but got '-5s'\n/],
    [['connect', '127.0.0.1:7000', '--format', 'netty'], /^proto: expected --format to be one of proto, structBI, int32, lengthPrefixed or a JSON layout, but got 'netty'\n/],
    [['connect', '127.0.0.1:7000', '--format', '{"length":3}'], /^proto: invalid --format or --max-frame-length: expected format.length to be one of 'varint', 1, 2, 4, 8, but got 3\n/],
    [['connect', '127.0.0.1:7000', '--format', '{"size":4}'], /^proto: expected a --format layout to have only the fields length, endian, type and lengthCounts, but got 'size'/],
    [['connect', '127.0.0.1:7000', '--interval', 'soon'], /^proto: expected --interval to be a duration such as 500ms, 5s or 1m, but got 'soon'\n/],
    [['connect', '127.0.0.1:7000', '--interval', '5s', '--timeout', '2s'], /^proto: expected --timeout \(2000 ms\) to be above --interval \(5000 ms\)/],
    [['connect', '127.0.0.1:7000', '--ping-type', '256'], /^proto: expected --ping-type to be a whole number from 0 to 255, but got '256'\n/],
    [['connect', '127.0.0.1:7000', '--ping-type', '3'], /^proto: expected --ping-type and --pong-type to differ, but both are 3\n/],
    [['connect', '127.0.0.1:7000', '--ping-body', 'hex:zz'], /^proto: expected --ping-body to be 'sequence', 'empty' or 'hex:' followed by hex digits, but got 'hex:zz'\n/],
    [['connect', '127.0.0.1:7000', '--no-heartbeat', '--interval', '1s'], /^proto: --no-heartbeat cannot go with --interval\n/],
    [['connect', '127.0.0.1:7000', '-f', 'int32', '--timeout', '9s'], /^proto: format int32 has no type byte, so pings cannot be told from data: leave out --timeout, or use --keepalive empty\n/],
    [['connect', '127.0.0.1:7000', '-f', 'int32', '--type', '0x40'], /^proto: --type 0x40: format int32 has no type byte and carries only type 0\n/],
    [['connect', '127.0.0.1:7000', '--max-delay', '5s'], /^proto: --max-delay is a reconnect setting: add --reconnect\n/],
    [['connect', '127.0.0.1:7000', '--reconnect', '--jitter', 'lots'], /^proto: expected --jitter to be full, equal, decorrelated, none, but got 'lots'\n/],
    [['connect', '127.0.0.1:7000', '--input', 'csv'], /^proto: expected --input to be text, hex, json, but got 'csv'\n/],
    [['connect', '127.0.0.1:7000', '--output', 'xml'], /^proto: expected --output to be text, raw, hex, json, none, but got 'xml'\n/],
    [['connect', '127.0.0.1:7000', '--max-frame-length', '5GiB'], /^proto: expected --max-frame-length to be a size from 0 to 4294967295 bytes, but got '5GiB'\n/],
    [['listen', 'everywhere'], /^proto: expected \[HOST:\]PORT to be 'PORT', 'HOST:PORT', '\[IPv6\]:PORT' or 'unix:PATH', but got 'everywhere'/],
    [['bench', '127.0.0.1:7000', '--size', '2MiB', '--max-frame-length', '1MiB'], /^proto: --size 2097152 is longer than --max-frame-length allows \(1048576\)\n/],
    // a 1-byte length field says at most 255, whatever --max-frame-length allows
    [['bench', '127.0.0.1:7000', '--format', '{"length":1}', '--max-frame-length', '1KiB', '--size', '300'], /^proto: --size 300 is longer than the format's length field allows \(255\)\n/],
    [['bench', '127.0.0.1:7000', '--window', '0'], /^proto: expected --window to be a whole number from 1 to 65536, but got '0'\n/]
  ]
  it.each(cases)('proto %j', async (args, message) => {
    const r = await runProto(args)
    expect(r.code).toBe(2)
    expect(r.stdout.length).toBe(0)
    expect(r.stderr).toMatch(message)
  })
})

describe('strict and keep-alive flags: values and combinations are checked before connecting', () => {
  it.each<[string[], RegExp]>([
    [['--allow-types', '0x40-0x10'], /^proto: expected --allow-types to be ranges written low-high, but got '0x40-0x10'\n/],
    [['--allow-types', 'data'], /^proto: expected --allow-types to be a whole number from 0 to 255, but got 'data'\n/],
    [['-f', 'int32', '--strict'], /^proto: --strict checks frame types, but format int32 has no type byte\n/],
    [['-f', 'int32', '--allow-types', '0'], /^proto: --strict\/--allow-types checks frame types, but format int32 has no type byte\n/],
    [['--strict', '--no-heartbeat'], /^proto: --no-heartbeat cannot go with --strict\n/],
    [['--max-ping-body', '4'], /^proto: expected --max-ping-body \(4\) to be at least 8, the length of our own pings \(sequence numbers\), since the peer's pongs echo them\n/],
    [['-f', 'structBI', '--ping-body', 'hex:0102', '--max-ping-body', '1'], /^proto: expected --max-ping-body \(1\) to be at least 2, the length of our own pings \(--ping-body\)/],
    [['--max-ping-body', 'lots'], /^proto: expected --max-ping-body to be a size in bytes such as 1460, 64KiB or 16MiB, but got 'lots'\n/],
    [['-f', 'int32', '--max-ping-body', '0'], /^proto: format int32 has no type byte, so pings cannot be told from data: leave out --max-ping-body, or use --keepalive empty\n/],
    [['--keepalive', 'tcp'], /^proto: expected --keepalive to be 'ping' or 'empty', but got 'tcp'\n/],
    [['--keepalive', 'empty', '--ping-type', '1'], /^proto: --keepalive empty sends empty frames, not pings: leave out --ping-type\n/],
    [['-f', 'int32', '--keepalive', 'empty', '--max-ping-body', '0'], /^proto: --keepalive empty sends empty frames, not pings: leave out --max-ping-body\n/],
    [['-f', 'int32', '--keepalive', 'empty', '--interval', '5s', '--timeout', '5s'], /^proto: expected --timeout \(5000 ms\) to be above --interval \(5000 ms\)/],
    [['--keepalive', 'empty', '--no-heartbeat'], /^proto: --no-heartbeat cannot go with --keepalive\n/],
    [['--max-peer-timeout', '5m'], /^proto: --max-peer-timeout bounds what the peer's HELLO asks for: add --hello\n/],
    [['--hello', '--max-peer-timeout'], /^proto: option '--max-peer-timeout' needs a value\n/],
    [['--hello', '--max-peer-timeout', 'soon'], /^proto: expected --max-peer-timeout to be a duration such as 500ms, 5s or 1m, or 'never', but got 'soon'\n/],
    [['--hello', '--max-peer-timeout=-5s'], /^proto: expected --max-peer-timeout to be a duration such as 500ms, 5s or 1m, or 'never', but got '-5s'\n/],
    [['--hello', '--max-peer-timeout', '0'], /^proto: expected --max-peer-timeout to be a duration from 1 ms to 2147483647 ms, but got '0'\n/],
    [['--hello', '--max-peer-timeout', '10s'], /^proto: expected --max-peer-timeout \(10000 ms\) to be at least --timeout \(45000 ms\), our own timeout, or a peer with our own settings would be refused\n/],
    [['--hello', '--interval', '1s', '--timeout', '3s', '--max-peer-timeout', '2.5s'], /^proto: expected --max-peer-timeout \(2500 ms\) to be at least --timeout \(3000 ms\)/],
    [['-f', 'int32', '--max-peer-timeout', '5m'], /^proto: format int32 has no type byte, so pings cannot be told from data: leave out --max-peer-timeout, or use --keepalive empty\n/],
    [['-f', 'int32', '--keepalive', 'empty', '--max-peer-timeout', '5m'], /^proto: --keepalive empty sends empty frames, not pings: leave out --max-peer-timeout\n/],
    [['--no-heartbeat', '--max-peer-timeout', '5m'], /^proto: --no-heartbeat cannot go with --max-peer-timeout\n/]
  ])('proto connect … %j', async (args, message) => {
    const r = await runProto(['connect', '127.0.0.1:9', ...args])
    expect(r.code).toBe(2)
    expect(r.stdout.length).toBe(0)
    expect(r.stderr).toMatch(message)
  })

  it('--max-peer-timeout is checked by every command with a heartbeat (listen and bench too), and proxy, which has none, does not know it', async () => {
    for (const args of [['listen', '0'], ['bench', '127.0.0.1:9']]) {
      const noHello = await runProto([...args, '--max-peer-timeout', '5m'])
      expect(noHello).toMatchObject({ code: 2, stdout: Buffer.alloc(0) })
      expect(noHello.stderr).toMatch(/^proto: --max-peer-timeout bounds what the peer's HELLO asks for: add --hello\n/)
      const bad = await runProto([...args, '--hello', '--max-peer-timeout', 'soon'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/^proto: expected --max-peer-timeout to be a duration such as 500ms, 5s or 1m, or 'never', but got 'soon'\n/)
    }
    const proxy = await runProto(['proxy', '0', '127.0.0.1:9', '--max-peer-timeout', '5m'])
    expect(proxy.code).toBe(2)
    expect(proxy.stderr).toMatch(/^proto: unknown option '--max-peer-timeout'/)
  })

  it('nothing in the help text or the exit codes speaks of options not supported', async () => {
    for (const command of ['connect', 'listen', 'bench']) {
      const help = (await runProto([command, '--help'])).stdout.toString()
      for (const flag of ['--strict', '--allow-types <types>', '--max-ping-body <size>', '--keepalive <mode>', '--max-peer-timeout <duration>']) expect(help).toContain(flag)
      expect(help).not.toMatch(/not supported/)
    }
  })
})

describe('runtime failures: exit 1, one line, a stack trace only when asked', () => {
  it('a refused connection', async () => {
    const r = await runProto(['connect', '127.0.0.1:9'], { stdin: 'x\n' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^proto: error: ConnectionRefusedError: .*127\.0\.0\.1:9.*\n$/)
  })

  it('--debug and DEBUG=proto:* add the stack and the cause chain', async () => {
    for (const [args, env] of [[['--debug'], {}], [[], { DEBUG: 'proto:*' }]] as const) {
      const r = await runProto(['connect', '127.0.0.1:9', ...args], { stdin: '', env })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^proto: error: ConnectionRefusedError: [^\n]*\n\s+at /m)
      expect(r.stderr).toMatch(/caused by: Error: connect ECONNREFUSED/)
    }
  })
})
