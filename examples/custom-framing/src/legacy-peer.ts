import net from 'node:net'

/**
 * The peer nobody here wrote: a device server speaking the classic Python framing
 * `struct.pack('!BI', type, len(body)) + body` — a u8 type, a big-endian u32 body length, the body.
 * Written with raw `node:net` and hand-made `Buffer` framing, as its own team would, knowing nothing of
 * @proto. Its protocol is the classic one:
 *
 * | type | name | body | it does |
 * |---|---|---|---|
 * | 0x00 | DATA | UTF-8 | answers DATA with the text in capitals |
 * | 0x01 | PING | empty | answers PONG; sends its own PING every `pingEvery` ms |
 * | 0x02 | PONG | empty | counts it |
 */
export const LegacyType = { DATA: 0x00, PING: 0x01, PONG: 0x02 } as const

export interface LegacyPeer {
  readonly port: number
  /** Every frame received, in order, as `{ type, body }`. */
  readonly received: Array<{ type: number, body: string }>
  readonly pingsSent: number
  readonly pongsReceived: number
  /** Raw bytes as they arrived, for checking the wire format. */
  readonly rawIn: Buffer[]
  /** Stop answering and pinging, and stop reading: a hung device. */
  hang(): void
  close(): Promise<void>
}

/** `struct.pack('!BI', type, len(body)) + body`. */
export function pack (type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt8(type, 0)
  header.writeUInt32BE(body.length, 1)
  return Buffer.concat([header, body])
}

export async function startLegacyPeer (options: { pingEvery?: number } = {}): Promise<LegacyPeer> {
  const sockets = new Set<net.Socket>()
  const received: LegacyPeer['received'] = []
  const rawIn: Buffer[] = []
  let pingsSent = 0
  let pongsReceived = 0
  let hung = false

  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    const ping = setInterval(() => {
      if (hung) return
      pingsSent++
      socket.write(pack(LegacyType.PING))
    }, options.pingEvery ?? 1_000)
    socket.on('close', () => { clearInterval(ping) })
    socket.on('data', (chunk: Buffer) => {
      if (hung) return
      rawIn.push(chunk)
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 5) {
        const type = pending.readUInt8(0)
        const length = pending.readUInt32BE(1)
        if (pending.length < 5 + length) break
        const body = pending.subarray(5, 5 + length)
        pending = pending.subarray(5 + length)
        received.push({ type, body: body.toString('utf8') })
        if (type === LegacyType.PING) socket.write(pack(LegacyType.PONG))
        else if (type === LegacyType.PONG) pongsReceived++
        else if (type === LegacyType.DATA) socket.write(pack(LegacyType.DATA, Buffer.from(body.toString('utf8').toUpperCase())))
      }
    })
    socket.on('end', () => { socket.end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    rawIn,
    get pingsSent () { return pingsSent },
    get pongsReceived () { return pongsReceived },
    hang () {
      hung = true
      for (const s of sockets) s.pause()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}
