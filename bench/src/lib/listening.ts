/** A receiver started by a worker: its port, and how to stop it. */
import type net from 'node:net'

export interface Listening { port: number, close(): Promise<void> }

/** A raw `node:net` receiver as a `Listening`. */
export async function netListener (start: () => Promise<{ port: number, server: net.Server }>): Promise<Listening> {
  const { port, server } = await start()
  return {
    port,
    close: async () => {
      server.close()
      await new Promise<void>((resolve) => { server.once('close', () => { resolve() }) })
    }
  }
}
