import { DEFAULT_BENCH_COUNT, DEFAULT_BENCH_DRAIN_TIMEOUT, DEFAULT_BENCH_DURATION, DEFAULT_BENCH_SIZE, DEFAULT_BENCH_WARMUP, DEFAULT_BENCH_WINDOW, DEFAULT_CLOSE_TIMEOUT } from '../constants.js'
import type { FlagGroup } from './spec.js'

/** Flags every command takes. */
export const GENERAL: FlagGroup = {
  title: 'General',
  flags: [
    { name: 'quiet', short: 'q', type: 'boolean', help: 'print only errors on stderr (no connection, RTT or fault lines)' },
    { name: 'debug', type: 'boolean', help: 'print stack traces and cause chains, and switch on DEBUG=proto:* logging' },
    { name: 'help', short: 'h', type: 'boolean', help: 'show this help' }
  ]
}

/** `--format` and the frame limit. */
export const FRAMING: FlagGroup = {
  title: 'Framing',
  flags: [
    { name: 'format', short: 'f', type: 'string', value: '<format>', help: "proto | structBI | int32 | lengthPrefixed | a JSON layout such as '{\"length\":2,\"endian\":\"little\",\"type\":\"none\"}' (default proto)" },
    { name: 'max-frame-length', type: 'string', value: '<size>', help: 'longest frame body accepted or sent (default 16MiB)' }
  ]
}

/** Client TLS (`connect`, `bench`). Any of them switches TLS on. */
export const TLS_CLIENT: FlagGroup = {
  title: 'TLS (any of these switches TLS on)',
  flags: [
    { name: 'tls', type: 'boolean', help: 'speak TLS' },
    { name: 'ca', type: 'string', value: '<file>', help: "CA certificates (PEM) to verify the server with (default: Node's bundled roots)" },
    { name: 'cert', type: 'string', value: '<file>', help: 'client certificate chain (PEM), for servers that ask for one' },
    { name: 'key', type: 'string', value: '<file>', help: 'private key (PEM) of --cert' },
    { name: 'servername', type: 'string', value: '<name>', help: 'server name for SNI and the certificate check (default: the host, when it is a name)' },
    { name: 'insecure', type: 'boolean', help: 'accept a server certificate that does not verify (testing only)' }
  ]
}

/** Server TLS (`listen`). */
export const TLS_SERVER: FlagGroup = {
  title: 'TLS (--cert and --key switch TLS on)',
  flags: [
    { name: 'tls', type: 'boolean', help: 'speak TLS (needs --cert and --key)' },
    { name: 'cert', type: 'string', value: '<file>', help: 'server certificate chain (PEM)' },
    { name: 'key', type: 'string', value: '<file>', help: 'private key (PEM) of --cert' },
    { name: 'ca', type: 'string', value: '<file>', help: 'require client certificates that verify against these CAs (PEM)' }
  ]
}

/** Keep-alive settings (`@proto/heartbeat`). */
export const HEARTBEAT: FlagGroup = {
  title: 'Heartbeat (on by default for formats with a type byte; --keepalive empty for the others)',
  flags: [
    { name: 'no-heartbeat', type: 'boolean', help: 'no keep-alive: send no pings, answer none, never judge the peer dead' },
    { name: 'interval', type: 'string', value: '<duration>', help: 'ping (or send an empty keep-alive frame) after this long without sending; 0 never (default 15s)' },
    { name: 'timeout', type: 'string', value: '<duration>', help: 'the peer is dead after this long without receiving; 0 never (default 45s; off with --keepalive empty)' },
    { name: 'ping-type', type: 'string', value: '<byte>', help: 'frame type of pings (default 0x02 for proto, 0x01 for structBI)' },
    { name: 'pong-type', type: 'string', value: '<byte>', help: 'frame type of pongs (default 0x03 for proto, 0x02 for structBI)' },
    { name: 'ping-body', type: 'string', value: '<body>', help: 'sequence | empty | hex:<bytes> (default sequence for proto, empty for structBI)' },
    { name: 'pong-body', type: 'string', value: '<body>', help: 'echo | empty | hex:<bytes> (default echo for proto, empty for structBI)' },
    { name: 'hello', type: 'boolean', help: 'send a HELLO first and require one from the peer (proto format)' },
    { name: 'max-peer-timeout', type: 'string', value: '<duration>', help: "with --hello, the longest timeout or interval the peer's HELLO may make us adopt; a HELLO asking for more is refused with GOAWAY DO_NOT_RETRY (unusable_heartbeat); at least --timeout; 'never' accepts any (default 4 × --timeout and at least 3m; with --timeout 0, any)" },
    { name: 'strict', type: 'boolean', help: "close the connection at once with ProtocolViolationError (and GOAWAY PROTOCOL_ERROR where the format has one) on a frame of a type not allowed or a ping/pong body too long; allowed: the format's data types (structBI 0x00, others 0x00 and 0x40-0xff), structBI pings empty" },
    { name: 'allow-types', type: 'string', value: '<types>', help: "inbound data types allowed under --strict, e.g. '0x00,0x10-0x11' (implies --strict); ping, pong and GOAWAY are always accepted" },
    { name: 'max-ping-body', type: 'string', value: '<size>', help: 'longest ping/pong body accepted from the peer; longer closes the connection (default 64, or 0 for structBI under --strict)' },
    { name: 'keepalive', type: 'string', value: '<mode>', help: 'ping: ping/pong frames (default) | empty: send an empty frame when idle, for peers without a ping such as formats without a type byte; empty frames received are keep-alives, never printed; --timeout defaults to off' }
  ]
}

/** Redialling (`@proto/reconnect`). */
export const RECONNECT: FlagGroup = {
  title: 'Reconnect',
  flags: [
    { name: 'reconnect', short: 'r', type: 'boolean', help: 'redial with backoff when the connection is lost; frames typed meanwhile wait' },
    { name: 'initial-delay', type: 'string', value: '<duration>', help: 'ceiling of the first delay (default 500ms)' },
    { name: 'max-delay', type: 'string', value: '<duration>', help: 'cap on the delay, applied before jitter (default 30s)' },
    { name: 'factor', type: 'string', value: '<n>', help: 'the delay ceiling grows by this factor per attempt (default 2)' },
    { name: 'jitter', type: 'string', value: '<kind>', help: 'full | equal | decorrelated | none (default full)' },
    { name: 'max-attempts', type: 'string', value: '<n>', help: "dials per outage before giving up; 'never' gives up never (default never)" },
    { name: 'max-retry-time', type: 'string', value: '<duration>', help: "longest outage before giving up; 'never' (default 24h)" },
    { name: 'min-stable-time', type: 'string', value: '<duration>', help: 'a connection must last this long for its loss to reset the backoff (default 10s)' }
  ]
}

/** Dialling. */
export const DIAL: FlagGroup = {
  title: 'Connection',
  flags: [
    { name: 'connect-timeout', type: 'string', value: '<duration>', help: 'TCP and TLS handshakes together may take this long (default 10s)' },
    { name: 'close-timeout', type: 'string', value: '<duration>', help: `closing may take this long before the connection is aborted (default ${DEFAULT_CLOSE_TIMEOUT / 1000}s)` }
  ]
}

/** What `connect` sends. */
export const INPUT: FlagGroup = {
  title: 'Input (frames to send)',
  flags: [
    { name: 'input', short: 'i', type: 'string', value: '<mode>', help: "text: a frame per stdin line | hex: a frame per line of hex digits, optionally 'TYPE:' first | json: a frame per JSON line {type, text|hex|base64} (default text)" },
    { name: 'file', type: 'string', multiple: true, value: '<path>', help: 'send the whole file as one frame (repeat for several; stdin is then not read)' },
    { name: 'type', short: 't', type: 'string', value: '<byte>', help: 'frame type of text lines and of files (default 0x00, DATA)' },
    { name: 'count', short: 'n', type: 'string', value: '<n>', help: 'exit after printing this many frames' },
    { name: 'linger', type: 'string', value: '<duration>', help: "once the input has ended, wait this long for the peer to finish; 'never' waits until it does (default never)" }
  ]
}

/** How received frames are printed. */
export const OUTPUT: FlagGroup = {
  title: 'Output (frames received, on stdout)',
  flags: [
    { name: 'output', short: 'o', type: 'string', value: '<mode>', help: 'text: each body and a newline | raw: bodies only | hex: a hex dump per frame | json: a JSON line per frame | none (default text)' }
  ]
}

/** `listen`. */
export const SERVER: FlagGroup = {
  title: 'Server',
  flags: [
    { name: 'echo', short: 'e', type: 'boolean', help: 'send every frame back to its sender' },
    { name: 'once', type: 'boolean', help: 'serve one connection, then exit' },
    { name: 'max-connections', type: 'string', value: '<n>', help: 'connections at once; more are refused (default unlimited)' },
    { name: 'idle-timeout', type: 'string', value: '<duration>', help: 'close a connection that carried nothing for this long (default off)' },
    { name: 'close-timeout', type: 'string', value: '<duration>', help: `after Ctrl-C, connections may take this long to finish (default ${DEFAULT_CLOSE_TIMEOUT / 1000}s)` }
  ]
}

/** `bench`. */
export const BENCH: FlagGroup = {
  title: 'Benchmark',
  flags: [
    { name: 'count', short: 'n', type: 'string', value: '<n>', help: `messages measured (default ${DEFAULT_BENCH_COUNT})` },
    { name: 'size', short: 's', type: 'string', value: '<size>', help: `body bytes per message (default ${DEFAULT_BENCH_SIZE})` },
    { name: 'window', short: 'w', type: 'string', value: '<n>', help: `messages in flight at once; 1 measures unloaded round trips (default ${DEFAULT_BENCH_WINDOW})` },
    { name: 'duration', short: 'd', type: 'string', value: '<duration>', help: `stop sending after this long even if --count is not reached (default ${DEFAULT_BENCH_DURATION / 1000}s)` },
    { name: 'drain-timeout', type: 'string', value: '<duration>', help: `after sending stops, the echoes still in flight may take this long (default ${DEFAULT_BENCH_DRAIN_TIMEOUT / 1000}s)` },
    { name: 'warmup', type: 'string', value: '<n>', help: `messages sent first and not measured (default ${DEFAULT_BENCH_WARMUP})` },
    { name: 'type', short: 't', type: 'string', value: '<byte>', help: 'frame type of the messages (default 0x00, DATA)' },
    { name: 'json', type: 'boolean', help: 'print the result as one JSON object instead of a table' }
  ]
}

/** `proxy`. */
export const PROXY: FlagGroup = {
  title: 'Faults',
  flags: [
    { name: 'faults', short: 'F', type: 'string', multiple: true, value: '<plan>', help: "comma-separated faults, e.g. 'cut-every=1s-3s,cut-mode=reset,fragment=1-64' (see below), or a JSON FaultPlan; may be repeated" },
    { name: 'seed', type: 'string', value: '<n>', help: 'seed of every random choice, to replay a run (default random, printed)' },
    { name: 'json', type: 'boolean', help: 'print fault events as JSON lines on stdout instead of text on stderr' }
  ]
}
