import net from 'node:net'
import { encode } from '@proto/codec'
import { ChatType, frame } from './protocol.js'

/**
 * A member that joins and then vanishes the way a phone in a tunnel or an unplugged device does: no FIN,
 * no reset, no bytes at all — it stops reading and never answers a ping. Only a heartbeat can tell.
 * Returns a function that finally destroys the socket (cleanup).
 */
export async function joinAndVanish (port: number, name: string): Promise<() => void> {
  const socket = net.connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  socket.on('error', () => {}) // the server will reset it
  for (const chunk of encode([frame(ChatType.JOIN, name)])) socket.write(chunk.subarray())
  socket.pause() // from now on: silence
  return () => { socket.destroy() }
}
