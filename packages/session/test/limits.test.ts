import { formats } from '@proto/codec'
import { afterEach, describe, expect, it } from 'vitest'
import type { SessionServerInit } from '../src/index.js'
import { sessionClient, sessionServer } from '../src/index.js'
import type { Harness } from './helpers/stack.js'
import { harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

describe('what the codec cannot carry (real TCP)', () => {
  it('an item longer than codec.maxFrameLength is refused at the sink, typed and counted; what came before it is delivered, and the session goes on on its one connection', async () => {
    const got: number[] = []
    h = await harness((session) => { void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {}) }, { codec: { maxFrameLength: 1024 } })
    const client = h.client({ codec: { maxFrameLength: 1024 } })
    const r = await client.sink([item(1, 1024), item(2, 1025), item(3)]).then(() => undefined, (err: unknown) => err)
    expect(r).toMatchObject({ name: 'InvalidParametersError', message: expect.stringContaining('at most 1024 bytes') })
    // the refusal ended that sink; a new one carries on, on the same connection
    await client.sink([item(4)])
    await expect.poll(() => got, { timeout: 5_000 }).toEqual([1, 4])
    // taken: 1, 2 (refused) and 4; item 3 was never taken from the first sink's source
    expect(client.stats().link).toMatchObject({ accepted: 3, rejected: 1, handed: 2, confirmed: 2, attempts: 1, reconnects: 0 })
  })

  it('an item longer than the server\'s maxFrameLength (the client\'s is larger): the server says why, and the client stops at once instead of sending it to every connection', async () => {
    const got: number[] = []
    h = await harness((session) => { void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {}) }, { codec: { maxFrameLength: 1024 } })
    const client = h.client()
    let connects = 0
    client.addEventListener('connected', () => { connects++ })
    const closed = new Promise<{ error: Error | undefined }>((resolve) => { client.addEventListener('closed', (e) => { resolve(e.detail) }, { once: true }) })
    void client.sink([item(1), item(2, 2000), item(3)]).catch(() => {})
    const { error } = await closed
    expect(error).toMatchObject({ name: 'ReconnectFailedError', kind: 'fatal' })
    expect((error as Error & { cause: Error }).cause).toMatchObject({ name: 'SessionProtocolError', message: expect.stringContaining('maxFrameLength 1024') })
    expect(connects).toBe(1)
    expect(got).toEqual([1])
    // the item the server could not read, and what came after it, were never acknowledged; nor, when the
    // connection failed in the turn its application read it, item 1 (counted: the client cannot know)
    const link = client.stats().link
    expect(link).toMatchObject({ accepted: 3 })
    expect(link.confirmed + link.unconfirmed).toBe(3)
    expect(link.unconfirmed).toBeGreaterThanOrEqual(2)
    // the server counts the connection it closed for it (the session is kept, detached)
    await expect.poll(() => h?.server.stats().protocolErrors).toBe(1)
    expect(h?.server.stats()).toMatchObject({ sessions: 1, detached: 1 })
  })

  it('codec options that could never carry a session are refused when the client or server is made', () => {
    const bad: SessionServerInit[] = [
      { codec: { format: formats.int32 } }, // no type byte: a session tells its frames apart by type
      { codec: { format: { ...formats.proto, type: 'none' } } },
      { codec: { maxFrameLength: 48 } } // a RESUME is 49 bytes
    ]
    for (const init of bad) {
      expect(() => sessionServer(init), JSON.stringify(init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
      expect(() => sessionClient(async () => await new Promise(() => {}), init), JSON.stringify(init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
    // the least that carries one
    sessionServer({ codec: { maxFrameLength: 49 } }).abort(new Error('test over'))
  })
})
