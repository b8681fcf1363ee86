import net from 'node:net'

/** A TCP relay in front of a server, for tests of what a lost frame or a cut connection does. */
export interface LossyRelay {
  /** The relay's own port: dial it instead of the server's. */
  port: number
  /** Where each new connection goes: change `port` to send the next one elsewhere (a load balancer moving a client). */
  target: { port: number }
  /** While `true`, every byte the server sends is dropped (the connection stays up). */
  dropToClient: boolean
  /** While `true`, every byte the client sends is dropped (the connection stays up). */
  dropToServer: boolean
  /** Destroys every connection through the relay. */
  cut(): void
  /** Stops listening and cuts every connection. */
  close(): void
}

/**
 * Starts a relay on 127.0.0.1 to the server on `target.port` (read at each new connection) that can lose
 * everything the server sends (`dropToClient`) or the client sends (`dropToServer`) and cut every
 * connection (`cut()`).
 */
export async function lossyRelay (target: { port: number }): Promise<LossyRelay> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((down) => {
    const up = net.connect({ host: '127.0.0.1', port: target.port })
    for (const s of [down, up]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => { sockets.delete(s); down.destroy(); up.destroy() })
    }
    down.on('data', (d: Buffer) => { if (!relay.dropToServer) up.write(d) })
    up.on('data', (d: Buffer) => { if (!relay.dropToClient) down.write(d) })
  })
  const relay: LossyRelay = {
    port: 0,
    target,
    dropToClient: false,
    dropToServer: false,
    cut () { for (const s of sockets) s.destroy() },
    close () { server.close(); relay.cut() }
  }
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  relay.port = (server.address() as net.AddressInfo).port
  return relay
}
