import net from 'node:net'

export { socketDuplex } from '@proto/stage-compliance/socket-duplex'

export interface Server {
  port: number
  /** Accepted sockets, in order. */
  accepted: net.Socket[]
  /** Resolves with the next accepted socket. */
  next(): Promise<net.Socket>
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 with a random port. */
export async function listen (): Promise<Server> {
  const accepted: net.Socket[] = []
  const waiting: Array<(s: net.Socket) => void> = []
  const server = net.createServer((socket) => {
    accepted.push(socket)
    const w = waiting.shift()
    if (w != null) w(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  let taken = 0
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    async next () {
      if (taken < accepted.length) return accepted[taken++]
      taken++
      return await new Promise(resolve => waiting.push(resolve))
    },
    async close () {
      for (const s of accepted) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Connects to 127.0.0.1:`port`. */
export async function dial (port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

export interface BlackHoleProxy {
  port: number
  /** From now on every byte in either direction is dropped; the sockets stay open (no FIN, no RST). */
  blackHole(): void
  close(): Promise<void>
}

/** A loopback TCP proxy to `targetPort` that can silently stop forwarding, as a NAT that lost its mapping would. */
export async function blackHoleProxy (targetPort: number): Promise<BlackHoleProxy> {
  let holed = false
  const sockets: net.Socket[] = []
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1')
    sockets.push(inbound, outbound)
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      from.on('error', () => {})
      from.on('data', (chunk: Buffer) => { if (!holed) to.write(chunk) })
      from.on('end', () => { if (!holed) to.end() })
      from.on('close', () => { if (!holed) to.destroy() })
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    blackHole () { holed = true },
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Resolves when `socket` has closed. */
export async function closed (socket: net.Socket): Promise<void> {
  if (socket.closed) return
  await new Promise(resolve => socket.once('close', resolve))
}
