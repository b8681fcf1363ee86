import type { Server } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { echo, startEchoServer } from '../src/echo.js'

let server: Server | undefined
afterEach(async () => { await server?.close() })

describe('echo example', () => {
  it('echoes every frame in order, including an empty one and a large one, then both sides close cleanly', async () => {
    server = await startEchoServer()
    const { port } = server.address as { port: number }
    const disconnects: string[] = []
    server.addEventListener('disconnect', ({ detail }) => { disconnects.push(detail.info.reason) })
    const texts = ['hello', '', 'x'.repeat(200_000), ...Array.from({ length: 1_000 }, (_, i) => `message ${i}`)]
    expect(await echo(port, texts)).toEqual(texts)
    await expect.poll(() => disconnects).toEqual(['closed'])
    expect(server.connections.size).toBe(0)
  })

  it('serves several clients at once', async () => {
    server = await startEchoServer()
    const { port } = server.address as { port: number }
    const runs = await Promise.all([1, 2, 3, 4].map(async n => await echo(port, [`client ${n}`, 'bye'])))
    expect(runs).toEqual([1, 2, 3, 4].map(n => [`client ${n}`, 'bye']))
  })
})
