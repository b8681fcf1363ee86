import type { FaultEvent, FaultProxy, FaultProxyInit } from '@proto/fault-proxy'
import { startFaultProxy } from '@proto/fault-proxy'
import { formatAddress, parseListenAddress, parseTarget } from '../args/address.js'
import { FAULT_KEYS_HELP, parseFaults } from '../args/faults.js'
import { GENERAL, PROXY } from '../args/flags.js'
import type { CommandSpec, ParsedCommand } from '../args/spec.js'
import { flagValue, listValue, stringValue } from '../args/spec.js'
import { parseInteger } from '../args/values.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { watchFaultProxy } from '../events.js'

export const PROXY_COMMAND: CommandSpec = {
  name: 'proxy',
  usage: 'proto proxy LISTEN TARGET [options]',
  summary: 'a seeded fault-injecting TCP proxy, to test your application against a hostile network',
  description: `Forwards every connection made to LISTEN to TARGET, and injects faults on the way: cuts (FIN
or reset), black holes (nothing gets through, sockets stay open: only a heartbeat notices), delay,
throttling, re-slicing bytes into small pieces or coalescing them. Random faults follow --seed, so a
run can be replayed. Every fault and connection is printed on stderr. LISTEN is PORT or 127.0.0.1:PORT
(0 for a free port), TARGET is HOST:PORT or unix:PATH; both must be loopback. Runs until Ctrl-C, then
prints its counters.

Fault keys (--faults key=value,key=value …; durations take ms/s/m, ranges are min-max):
${FAULT_KEYS_HELP.map(([k, h]) => `  ${k.padEnd(17)}${h}`).join('\n')}`,
  positionals: ['LISTEN', 'TARGET'],
  groups: [PROXY, GENERAL],
  examples: [
    "proto proxy 7001 127.0.0.1:7000 --faults 'cut-every=2s-5s,fragment=1-64' --seed 42",
    "proto proxy 7001 127.0.0.1:7000 --faults 'blackhole-every=3s-6s,blackhole-for=1s-2s,delay=20ms'",
    "proto proxy 7001 unix:/tmp/app.sock --faults 'throttle=100kB,cut-mode=reset,cut-every=10s' --json"
  ]
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`

/** One fault event as a line of text. */
export function describeFaultEvent (e: FaultEvent): string | undefined {
  const at = `+${(e.atMs / 1000).toFixed(3)}s`
  switch (e.type) {
    case 'connection': return `${at} connection ${e.id} opened`
    case 'connection-close': return `${at} connection ${e.id} closed (${e.reason})`
    case 'refused': return `${at} connection ${e.id} refused`
    case 'cut': return `${at} cut ${count(e.connections, 'connection')} (${e.mode})`
    case 'black-hole': return `${at} black hole${e.durationMs !== undefined ? ` for ${e.durationMs} ms` : ''}`
    case 'restore': return `${at} black hole ended`
    case 'settings': {
      const s = e.settings
      return `${at} link: delay ${s.delayMs} ms, throttle ${s.throttle === Infinity ? 'off' : `${s.throttle} B/s`}, fragment ${s.fragment !== undefined ? `${s.fragment.min}-${s.fragment.max} B` : 'off'}, coalesce ${s.coalesceMs} ms`
    }
    case 'fault': case 'close': return undefined // the action itself is reported; close is followed by the counters
  }
}

/** `proto proxy`. */
export async function runProxy (parsed: ParsedCommand, ctx: CommandContext): Promise<void> {
  const { values } = parsed
  const listenAt = parseListenAddress('LISTEN', parsed.positionals[0]!)
  const target = parseTarget('TARGET', parsed.positionals[1]!)
  if ('path' in listenAt) throw new UsageError('the proxy listens on a loopback TCP port, not a Unix socket: give LISTEN as PORT or 127.0.0.1:PORT')
  const seedText = stringValue(values, 'seed')
  const json = flagValue(values, 'json')
  const init: FaultProxyInit = {
    target,
    listen: listenAt,
    faults: parseFaults(listValue(values, 'faults')),
    ...(seedText !== undefined ? { seed: parseInteger('--seed', seedText, { max: 0xFFFF_FFFF }) } : {})
  }
  const proxy: FaultProxy = await startFaultProxy(init)
  watchFaultProxy(proxy, (event) => {
    if (json) {
      ctx.io.stdout.write(JSON.stringify(event) + '\n')
      return
    }
    const line = describeFaultEvent(event)
    if (line !== undefined) ctx.report.info(`[proxy] ${line}`)
  })
  ctx.report.info(`proxy on ${formatAddress(proxy.address)} → ${formatAddress(target)} (seed ${proxy.seed}${init.faults !== undefined && Object.keys(init.faults).length > 0 ? `, faults ${JSON.stringify(init.faults)}` : ', no faults'})`)
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
  await proxy.close()
  const s = proxy.stats()
  ctx.report.info(`[proxy] ${count(s.connections, 'connection')}, ${s.bytesUp} B up, ${s.bytesDown} B down, ${count(s.cuts, 'cut')} (${count(s.connectionsCut, 'connection')}), ${count(s.blackHoles, 'black hole')}, ${s.discardedBytes} B discarded, seed ${proxy.seed}`)
  throw ctx.signal.reason
}
