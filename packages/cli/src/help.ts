import type { CommandSpec, FlagSpec } from './args/spec.js'

const WIDTH = 100
const FLAG_COLUMN = 30

/** Wraps `text` to `WIDTH` columns; lines after the first start with `indent` spaces. */
function wrap (text: string, indent: number, first = ''): string {
  const lines: string[] = []
  let line = first
  for (const word of text.split(/\s+/)) {
    const current = line.slice(line.lastIndexOf('\n') + 1)
    if (current.length + 1 + word.length > WIDTH && current.trim() !== '') {
      lines.push(line)
      line = ' '.repeat(indent) + word
    } else {
      line += (line.length === 0 || line.endsWith(' ') ? '' : ' ') + word
    }
  }
  lines.push(line)
  return lines.join('\n')
}

function flagLine (f: FlagSpec): string {
  const names = `  ${f.short !== undefined ? `-${f.short}, ` : '    '}--${f.name}${f.value !== undefined ? ` ${f.value}` : ''}`
  const head = names.length >= FLAG_COLUMN ? `${names}\n${' '.repeat(FLAG_COLUMN)}` : names.padEnd(FLAG_COLUMN)
  return wrap(f.help, FLAG_COLUMN, head)
}

export const EXIT_CODES = `Exit codes:
  0    done: the input was sent and the peer finished (also after GOAWAY SHUTTING_DOWN or IDLE_TIMEOUT),
       --count reached, --once served
  1    runtime failure: refused, reset, TLS, heartbeat timeout, bad frame, protocol violation (--strict),
       GOAWAY DO_NOT_RETRY, PROTOCOL_ERROR or TOO_MANY_PINGS, reconnect gave up, bad echo
  2    usage error: unknown or malformed option or argument, options that do not go together
  3    bad input data: invalid hex or JSON line, frame too long, unreadable --file
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM); everything is closed first`

/** `proto <command> --help`. */
export function commandHelp (spec: CommandSpec): string {
  const parts = [`Usage: ${spec.usage}`, '', spec.description]
  for (const group of spec.groups) parts.push('', `${group.title}:`, ...group.flags.map(flagLine))
  parts.push('', 'Durations take a unit: 500ms, 5s, 2m (a bare number is ms). Sizes: 1460, 64KiB, 16MiB.')
  parts.push('', 'Examples:', ...spec.examples.map(e => `  ${e}`), '', EXIT_CODES, '')
  return parts.join('\n')
}

/** `proto --help`. */
export function mainHelp (commands: readonly CommandSpec[], version: string): string {
  const width = Math.max(...commands.map(c => c.usage.replace(/^proto /, '').replace(/ \[options\]$/, '').length)) + 4
  return [
    `proto ${version}: talk to, serve, benchmark and fault-inject framed TCP/TLS links from a shell`,
    '',
    'Usage: proto <command> [arguments] [options]',
    '',
    'Commands:',
    ...commands.map(c => `  ${c.usage.replace(/^proto /, '').replace(/ \[options\]$/, '').padEnd(width)}${c.summary}`),
    '',
    "Run 'proto <command> --help' for a command's options.",
    '',
    'Framing (--format): proto [u32be len][u8 type][body] (default) | structBI [u8 type][u32be len][body],',
    "  Python struct '!BI' | int32 [u32be len][body], Netty/Java | lengthPrefixed [varint len][body],",
    '  it-length-prefixed | a JSON layout {"length":1|2|4|8|"varint","endian","type":"before"|"after"|"none",',
    '  "lengthCounts"} (docs/PROTOCOL.md §4).',
    '',
    'Options:',
    '  -h, --help                  show this help',
    '  -V, --version               print the version',
    '',
    'Debugging: --debug on any command, or DEBUG=proto:*, prints stack traces and the SDK\'s own logging.',
    '',
    EXIT_CODES,
    ''
  ].join('\n')
}
