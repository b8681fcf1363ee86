/**
 * The client side of the connection benchmark (forked by `connections.ts`): opens N raw `node:net`
 * connections and sends each a @proto PING once a second (spread evenly over the second by one shared
 * timer), answers the server's PINGs, and counts PONGs. Kept deliberately cheap; its CPU is not measured.
 */
import net from 'node:net'
import { FrameType } from '@proto/codec'

const [port, count] = [Number(process.argv[2]), Number(process.argv[3])]
const TICK = 20
const sockets: net.Socket[] = []
let pongs = 0

function frame (type: number, seq: number): Buffer {
  const b = Buffer.alloc(13)
  b.writeUInt32BE(8, 0)
  b[4] = type
  b.writeUInt32BE(seq, 9)
  return b
}

function onData (socket: net.Socket, chunk: Buffer): void {
  // frames here are tiny and never split on loopback at this rate; count PONGs, answer PINGs
  for (let off = 0; off + 5 <= chunk.length;) {
    const len = chunk.readUInt32BE(off)
    const type = chunk[off + 4]
    if (type === FrameType.PONG) pongs++
    else if (type === FrameType.PING) {
      const pong = Buffer.from(chunk.subarray(off, off + 5 + len))
      pong[4] = FrameType.PONG
      socket.write(pong)
    }
    off += 5 + len
  }
}

async function open (): Promise<void> {
  for (let i = 0; i < count; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, count - i) }, async () => {
      const socket = net.connect(port, '127.0.0.1')
      socket.setNoDelay(true)
      socket.on('data', (chunk) => { onData(socket, chunk) })
      socket.on('error', () => {})
      await new Promise(resolve => socket.once('connect', resolve))
      sockets.push(socket)
    }))
  }
}

await open()
let seq = 0
let next = 0
const perTick = Math.ceil(sockets.length * TICK / 1000)
setInterval(() => {
  seq++
  for (let i = 0; i < perTick; i++) {
    const s = sockets[next]
    next = (next + 1) % sockets.length
    if (!s.destroyed) s.write(frame(FrameType.PING, seq))
  }
}, TICK)
process.send?.({ type: 'open', sockets: sockets.length })
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') process.send?.({ type: 'stats', pongs, destroyed: sockets.filter(s => s.destroyed).length })
  if (msg.type === 'exit') process.exit(0)
})
