import net from 'node:net'

/**
 * Servers written the way their own teams would write them: raw `node:net`, hand-made `Buffer` framing,
 * knowing nothing of @proto. Each records the raw bytes it received, so tests check the wire byte for
 * byte.
 */
export interface RawPeer {
  readonly port: number
  /** Every chunk received, in order, over every connection. */
  readonly rawIn: Buffer[]
  /** Connections accepted so far. */
  readonly accepted: number
  /** Connections that sent FIN. */
  readonly ended: number
  /** Stop reading and answering (a hung device). */
  hang(): void
  close(): Promise<void>
}

/** Takes one whole frame off the front of `pending`, or `undefined` when it is not all there yet. */
export type Split = (pending: Buffer) => { frame: Buffer[], rest: Buffer } | undefined

export interface PeerBehaviour {
  readonly split: Split
  /** Called with the frame's parts as `split` returned them; write replies to `socket`. */
  readonly onFrame: (frame: Buffer[], socket: net.Socket, connection: number) => void
  /** Called once per connection. */
  readonly onConnection?: (socket: net.Socket, connection: number) => void
  /** Whether the peer ends its side when the client does (default true). */
  readonly endOnEnd?: boolean
}

export async function startRawPeer (behaviour: PeerBehaviour): Promise<RawPeer> {
  const sockets = new Set<net.Socket>()
  const rawIn: Buffer[] = []
  let accepted = 0
  let ended = 0
  let hung = false
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const connection = ++accepted
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('error', () => {})
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      if (hung) return
      rawIn.push(chunk)
      pending = Buffer.concat([pending, chunk])
      for (let next = behaviour.split(pending); next !== undefined; next = behaviour.split(pending)) {
        pending = next.rest
        behaviour.onFrame(next.frame, socket, connection)
      }
    })
    socket.on('end', () => {
      ended++
      if (behaviour.endOnEnd !== false) socket.end()
    })
    behaviour.onConnection?.(socket, connection)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    rawIn,
    get accepted () { return accepted },
    get ended () { return ended },
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

// ---- '!BI': struct.pack('!BI', type, len(body)) + body -------------------------------------------------

/** `[u8 type][u32be length][body]`. */
export function packBI (type: number, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const header = Buffer.alloc(5)
  header.writeUInt8(type, 0)
  header.writeUInt32BE(b.length, 1)
  return Buffer.concat([header, b])
}

const splitBI: Split = (p) => {
  if (p.length < 5) return undefined
  const length = p.readUInt32BE(1)
  if (p.length < 5 + length) return undefined
  return { frame: [p.subarray(0, 1), p.subarray(5, 5 + length)], rest: p.subarray(5 + length) }
}

/**
 * The classic protocol: DATA 0x00 is answered with DATA in capitals, PING 0x01 with an empty PONG 0x02,
 * a PONG is counted; TEXT 0x10 is answered with REPLY 0x11 in capitals. Optionally pings every `pingEvery` ms.
 */
export async function startStructBIPeer (options: { pingEvery?: number, endOnEnd?: boolean } = {}): Promise<RawPeer & { pongsReceived: () => number, pingsSent: () => number }> {
  let pongs = 0
  let pings = 0
  const peer = await startRawPeer({
    split: splitBI,
    ...(options.endOnEnd !== undefined ? { endOnEnd: options.endOnEnd } : {}),
    onConnection: (socket) => {
      if (options.pingEvery === undefined) return
      const t = setInterval(() => { pings++; socket.write(packBI(0x01)) }, options.pingEvery)
      socket.on('close', () => { clearInterval(t) })
    },
    onFrame: ([type, body], socket) => {
      const t = type![0]
      if (t === 0x00) socket.write(packBI(0x00, body!.toString('utf8').toUpperCase()))
      else if (t === 0x01) socket.write(packBI(0x02))
      else if (t === 0x02) pongs++
      else if (t === 0x10) socket.write(packBI(0x11, body!.toString('utf8').toUpperCase()))
    }
  })
  return Object.assign(peer, { pongsReceived: () => pongs, pingsSent: () => pings })
}

// ---- [u32be length][body] (Netty LengthFieldPrepender(4), DataOutputStream.writeInt) --------------------

export function packInt32 (body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const header = Buffer.alloc(4)
  header.writeUInt32BE(b.length, 0)
  return Buffer.concat([header, b])
}

const splitInt32: Split = (p) => {
  if (p.length < 4) return undefined
  const length = p.readUInt32BE(0)
  if (p.length < 4 + length) return undefined
  return { frame: [p.subarray(4, 4 + length)], rest: p.subarray(4 + length) }
}

/** Answers each frame with `re:` and the frame's body; with `echo`, with the body unchanged; `delay` ms later. */
export async function startInt32Peer (options: { echo?: boolean, delay?: number } = {}): Promise<RawPeer> {
  return await startRawPeer({
    split: splitInt32,
    onFrame: ([body], socket) => {
      const reply = packInt32(options.echo === true ? Buffer.from(body!) : Buffer.concat([Buffer.from('re:'), body!]))
      if (options.delay === undefined) socket.write(reply)
      else setTimeout(() => { if (!socket.destroyed) socket.write(reply) }, options.delay)
    }
  })
}

// ---- [u16le length][body] -------------------------------------------------------------------------------

export function packU16le (body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const header = Buffer.alloc(2)
  header.writeUInt16LE(b.length, 0)
  return Buffer.concat([header, b])
}

/** Echoes every `[u16le length][body]` frame. */
export async function startU16lePeer (): Promise<RawPeer> {
  return await startRawPeer({
    split: (p) => {
      if (p.length < 2) return undefined
      const length = p.readUInt16LE(0)
      if (p.length < 2 + length) return undefined
      return { frame: [p.subarray(2, 2 + length)], rest: p.subarray(2 + length) }
    },
    onFrame: ([body], socket) => { socket.write(packU16le(Buffer.from(body!))) }
  })
}

// ---- [varint length][body] (protobuf-style LEB128, as it-length-prefixed) --------------------------------

export function packVarint (body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const header: number[] = []
  let n = b.length
  while (n >= 0x80) {
    header.push((n & 0x7F) | 0x80)
    n >>>= 7
  }
  header.push(n)
  return Buffer.concat([Buffer.from(header), b])
}

/** Echoes every `[varint length][body]` frame. */
export async function startVarintPeer (): Promise<RawPeer> {
  return await startRawPeer({
    split: (p) => {
      let length = 0
      let shift = 0
      for (let i = 0; i < p.length && i < 8; i++) {
        length += (p[i]! & 0x7F) * 2 ** shift
        shift += 7
        if ((p[i]! & 0x80) === 0) {
          if (p.length < i + 1 + length) return undefined
          return { frame: [p.subarray(i + 1, i + 1 + length)], rest: p.subarray(i + 1 + length) }
        }
      }
      return undefined
    },
    onFrame: ([body], socket) => { socket.write(packVarint(Buffer.from(body!))) }
  })
}

// ---- [u32be length][u8 type][body]: the @proto wire format, by hand ---------------------------------------

export function packProto (type: number, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const header = Buffer.alloc(5)
  header.writeUInt32BE(b.length, 0)
  header.writeUInt8(type, 4)
  return Buffer.concat([header, b])
}

/** A GOAWAY frame by hand, in @proto's format: its body is `[u16be code][reason]`. */
export function packGoAway (code: number, reason: string): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason))
  body.writeUInt16BE(code, 0)
  body.write(reason, 2)
  return packProto(0x04, body)
}

/**
 * DATA (0x00) is echoed; PING (0x02) is answered by PONG (0x03) with the same body; optionally it sends
 * `sendFirst` (a GOAWAY, a frame of a bad type …) on connect, and then (`endAfterFirst`) ends its side at once.
 */
export async function startProtoPeer (options: { sendFirst?: Buffer, endAfterFirst?: boolean } = {}): Promise<RawPeer> {
  return await startRawPeer({
    split: (p) => {
      if (p.length < 5) return undefined
      const length = p.readUInt32BE(0)
      if (p.length < 5 + length) return undefined
      return { frame: [p.subarray(4, 5), p.subarray(5, 5 + length)], rest: p.subarray(5 + length) }
    },
    onConnection: (socket) => {
      if (options.sendFirst !== undefined) socket.write(options.sendFirst)
      if (options.endAfterFirst === true) socket.end()
    },
    onFrame: ([type, body], socket) => {
      if (type![0] === 0x00) socket.write(packProto(0x00, Buffer.from(body!)))
      else if (type![0] === 0x02) socket.write(packProto(0x03, Buffer.from(body!)))
    }
  })
}
