import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { canRun } from '@proto/stage-compliance'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { DemoSummary } from '../src/index.js'
import { renderReport, runDemo } from '../src/index.js'
import { artifactsDir, CHROMIUM, chromiumTool } from './helpers.js'

/** The flags the report must render under: no GPU, no network services, no first-run work. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

interface Seen {
  requests: string[]
  errors: string[]
}

/**
 * Opens the report in Debian's Chromium (driven by playwright-core, a fresh profile), checks that the
 * charts rendered, that nothing was fetched and nothing complained, and saves screenshots (light and dark)
 * next to the report in `test-artifacts/`.
 */
async function openReport (file: string, s: DemoSummary): Promise<Seen> {
  const profile = mkdtempSync(join(tmpdir(), 'proto-demo-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } })
  const seen: Seen = { requests: [], errors: [] }
  try {
    context.on('request', (r) => { seen.requests.push(r.url()) })
    const page = context.pages()[0] ?? await context.newPage()
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.errors.push(`console ${m.type()}: ${m.text()}`) })
    page.on('pageerror', (e) => { seen.errors.push(`page error: ${e.message}`) })
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })

    /** The first element matching `selector` is drawn at least this big (CSS pixels). */
    const expectBox = async (selector: string, width: number, height: number): Promise<void> => {
      const b = await page.locator(selector).first().boundingBox()
      expect(b?.width ?? 0, `${selector} width`).toBeGreaterThan(width)
      expect(b?.height ?? 0, `${selector} height`).toBeGreaterThan(height)
    }
    await expectBox('#timeline', 900, 300)
    await expectBox('#rtt-histogram', 300, 150)
    await expectBox('#timeline [data-series="out"]', 800, 10)
    await expectBox('#timeline [data-series="back"]', 800, 0)
    // the RTT line is drawn through every time bucket that had echoes (how wide depends on when they came)
    const rttPoints = ((await page.locator('#timeline [data-series="rtt-p50"]').first().getAttribute('d')) ?? '').match(/[ML]/g)?.length ?? 0
    expect(rttPoints).toBe(s.timeline.series.rttP50.filter(v => v !== null).length)
    expect(rttPoints).toBeGreaterThan(1)
    // the client heartbeat's adaptive ping interval, drawn as a step line across the run
    await expectBox('#timeline [data-series="interval"]', 100, -1)
    // every fault and every connection is on the chart, and each mark has a size
    const count = async (selector: string): Promise<number> => await page.locator(selector).count()
    expect(await count('#timeline [data-event="cut"]')).toBe(s.proxy.cuts)
    expect(await count('#timeline [data-event="black-hole"]')).toBe(s.proxy.blackHoles)
    expect(await count('#timeline [data-event="connected"]')).toBe(s.connections)
    expect(await count('#timeline [data-outage]')).toBe(s.outages.length)
    // the session's part: replays drawn in the throughput panel, each reconnect marked as a resume, the session's columns
    await expectBox('#timeline [data-series="replayed"]', 800, 0)
    expect(await count('#timeline [data-session="resumed"]')).toBe(s.connections - 1)
    expect(await count('#timeline [data-session="opened"]')).toBe(1)
    expect(await page.locator('section:has(h2:text("Connections")) thead th').allInnerTexts())
      .toEqual(['#', 'up', 'life span', 'session', 'sent', 'replayed', 'acked', 'reached server', 'echoes back', 'dup. dropped', 'how it ended'])
    expect(await page.locator('section:has(h2:text("Connections")) tbody tr').count()).toBe(s.connections)
    expect(await page.locator('.tiles .tile .k').allInnerTexts()).toEqual(['DELIVERED', 'REPLAYED', 'FAULTS', 'RECONNECTS', 'ECHO RTT P50', 'THROUGHPUT'])
    await expectBox('#timeline [data-event="cut"] path', 5, 5)
    await expectBox('#timeline [data-event="black-hole"] rect', 5, 0)
    expect(await count('#rtt-histogram [data-bin] rect')).toBeGreaterThan(2)
    expect(await count('#rtt-histogram [data-mark]')).toBe(4)
    expect(await count('ul.checks li.ok')).toBe(s.checks.length)
    expect(await page.locator('header').getAttribute('data-outcome')).toBe('pass')
    expect(await page.locator('header .badge').innerText()).toBe('PASS')
    // nothing but the page itself was loaded: no scripts, fonts, images or anything from the network
    expect(await page.evaluate(() => performance.getEntriesByType('resource').length)).toBe(0)

    const shots = artifactsDir()
    await page.screenshot({ path: join(shots, 'report.png'), fullPage: true })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(shots, 'report-dark.png'), fullPage: true })
  } finally {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return seen
}

describe('the HTML report, in a real browser', () => {
  it.runIf(canRun(chromiumTool))('renders its charts in headless Chromium with no console errors and no network requests', async () => {
    // faults of every kind, spaced so that the link also flows between them (a session catches up at once after each)
    const s = await runDemo({
      messages: 3_000, size: 64, rate: 1_000, seed: 42,
      cutEvery: [400, 800], blackHoleEvery: [1_000, 1_500], blackHoleFor: [1_100, 1_200], linkChangeEvery: [150, 300]
    })
    expect(s.outcome).toBe('pass')
    expect(s.lost).toBe(0)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expect(s.proxy.cuts).toBeGreaterThanOrEqual(1)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    const file = join(artifactsDir(), 'report.html')
    writeFileSync(file, renderReport(s))
    const seen = await openReport(file, s)
    expect(seen.errors).toEqual([])
    expect(seen.requests).toEqual([pathToFileURL(file).href])
  }, 60_000)
})
