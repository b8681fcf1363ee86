/**
 * @packageDocumentation
 *
 * The smallest @proto server and client: a TCP connection from `@proto/transport`, framed by
 * `@proto/codec`. The server sends every frame back; the client sends some, reads the echoes, and both
 * sides finish with a clean half-close.
 */
import { codec, FrameType } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'

/** An echo server on a free loopback port: every frame goes back on the connection it came from. */
export async function startEchoServer (): Promise<Server> {
  return await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
    const frames = codec(conn)
    await frames.sink(frames.source) // echo until the client half-closes, then half-close too
  })
}

/** Connects to `port`, sends each text as one frame, and returns the texts echoed back, in order. */
export async function echo (port: number, texts: string[]): Promise<string[]> {
  const frames = codec(await connect({ host: '127.0.0.1', port }))
  const replies: string[] = []
  await Promise.all([
    frames.sink(texts.map(text => ({ type: FrameType.DATA, body: new TextEncoder().encode(text) }))), // then FIN
    (async () => {
      for await (const frame of frames.source) replies.push(new TextDecoder().decode(frame.body))
    })()
  ])
  return replies
}
