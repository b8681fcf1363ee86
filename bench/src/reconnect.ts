/** Reconnect, orchestrator side: take the server down, keep it down for `outageMs`, bring it back, measure. */
import type { BackoffInit } from '@proto/reconnect'
import type { Worker } from './lib/ipc.js'
import { fmtRatio, median, percentile } from './lib/stats.js'
import type { Comeback } from './reconnect-probe.js'
import type { Section, Target } from './report.js'

export interface ReconnectConfig { outages: number, outageMs: number, backoff: Required<Pick<BackoffInit, 'initialDelay' | 'factor' | 'maxDelay'>> }

export async function runReconnect (server: Worker, client: Worker, cfg: ReconnectConfig, log: (s: string) => void): Promise<{ section: Section, targets: Target[] }> {
  const port = await server.call<number>('rc.listen')
  await client.call('rc.start', { port, backoff: cfg.backoff })
  const results: Comeback[] = []
  const drawn: number[] = []
  for (let i = 0; i < cfg.outages; i++) {
    await server.call('rc.down')
    // the outage itself is the scenario: the server stays away this long while the client backs off
    await new Promise(resolve => setTimeout(resolve, cfg.outageMs))
    results.push(await server.call<Comeback>('rc.up'))
    drawn.push(...await client.call<number[]>('rc.delays'))
    const last = results[results.length - 1]
    log(`  reconnect outage ${i + 1}/${cfg.outages}: redial ${last.accept.toFixed(0)} ms, first message ${last.first.toFixed(0)} ms after the server came back`)
  }
  const stats = await client.call<{ reconnects: number, attempts: number }>('rc.stop')
  const accept = results.map(r => r.accept).sort((a, b) => a - b)
  const first = results.map(r => r.first).sort((a, b) => a - b)
  const deliver = results.map(r => r.first - r.accept).sort((a, b) => a - b)
  const ceiling = cfg.backoff.maxDelay
  const ms = (x: number): string => `${x.toFixed(1)} ms`
  const body = [
    `Full client stack with \`reconnect({ initialDelay: ${cfg.backoff.initialDelay}, factor: ${cfg.backoff.factor}, maxDelay: ${ceiling} })\` (full jitter, the default). The server (listen+codec+heartbeat, same port) is taken down (listener closed, connections reset) ${cfg.outages} times for ${cfg.outageMs} ms; the client writes one message when it sees the drop. All times are taken in the server process, from the moment it listens again. After ${cfg.outageMs} ms of failed dials the backoff ceiling is at its cap, so the client is asleep for at most ${ceiling} ms when the server returns. ${stats.attempts} dials, ${stats.reconnects} reconnections; median drawn delay ${median(drawn).toFixed(0)} ms over ${drawn.length} waits.`,
    '',
    '| | median | p90 | max | configured backoff ceiling |',
    '|---|---:|---:|---:|---:|',
    `| server back → redial accepted | ${ms(median(accept))} | ${ms(percentile(accept, 0.9))} | ${ms(accept[accept.length - 1])} | ${ceiling} ms |`,
    `| server back → first message delivered | ${ms(median(first))} | ${ms(percentile(first, 0.9))} | ${ms(first[first.length - 1])} | ${ceiling} ms |`,
    `| redial accepted → first message (stack overhead) | ${ms(median(deliver))} | ${ms(percentile(deliver, 0.9))} | ${ms(deliver[deliver.length - 1])} | |`
  ].join('\n')
  const worst = first[first.length - 1]
  return {
    section: { title: 'Reconnect', body },
    targets: [{ name: 'Reconnect (suite check, not in DESIGN.md): worst server-back → first message', target: `≤ ceiling ${ceiling} ms + 50 ms`, value: `${worst.toFixed(0)} ms (${fmtRatio(worst / ceiling)} ceiling)`, met: worst <= ceiling + 50 }]
  }
}
