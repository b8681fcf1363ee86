import net from 'node:net'
import { codec, formats } from '@proto/codec'
import { cleanupsWithLeakCheck, resourceSnapshot } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { closed, dial, listen, socketDuplex } from './helpers/net.js'
import { f, settle } from './helpers/raw-peer.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

/** The classic Python '!BI' protocol: ping 0x01, pong 0x02, empty bodies, no GOAWAY; data types 0x05 and 0x06. */
const BI: HeartbeatInit = {
  interval: 100,
  timeout: 1000,
  pingType: 0x01,
  pongType: 0x02,
  pingBody: new Uint8Array(0),
  pongBody: new Uint8Array(0),
  goAwayType: null,
  maxPingBody: 0,
  allowedTypes: [0x05, 0x06]
}

const bi = (type: number, body: number[] = []): Buffer => {
  const b = Buffer.alloc(5 + body.length)
  b[0] = type
  b.writeUInt32BE(body.length, 1)
  b.set(body, 5)
  return b
}

describe('peers written elsewhere, over real sockets', () => {
  const cleanups = cleanupsWithLeakCheck(3000)

  it("a strict '!BI' server closes a peer that sends an unknown type or a ping with a body at once, typed; a good client carries on", async () => {
    // Node's stream destroy(err) reads err.stack; under Vitest the first stack formatted loads source maps
    // (tens of ms), which is the test runner's cost, not the stage's: pay it before measuring
    void new Error('warm-up').stack
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    const stages: HeartbeatDuplex[] = []
    const outcome = new Map<net.Socket, Promise<{ error?: any, at: number }>>()
    // the server: every accepted socket gets codec('!BI') + a strict heartbeat; it echoes data
    const serve = (socket: net.Socket): void => {
      const link = heartbeat(codec(socketDuplex(socket), { format: formats.structBI }), BI)
      stages.push(link)
      outcome.set(socket, settle(link.sink(link.source)).then(r => ({ error: r.error, at: performance.now() })))
    }
    const accept = async (): Promise<net.Socket> => {
      const s = await server.next()
      serve(s)
      return s
    }
    // a good client: the same stage on our side, sending data all along
    const good = heartbeat(codec(socketDuplex(await dial(server.port)), { format: formats.structBI }), BI)
    const goodSocket = await accept()
    let echoed = 0
    const goodReading = settle((async () => { for await (const _ of good.source) echoed++ })())
    let sending = true
    const goodWriting = good.sink((async function * () {
      while (sending) {
        yield f(0x05, 'hello')
        await new Promise(resolve => setTimeout(resolve, 150)) // pauses longer than the interval: pings go out
      }
    })())
    await new Promise<void>((resolve) => { on(good, 'rtt', () => { resolve() }) }) // pings in the pauses, answered

    for (const [what, bytes] of [['an unknown type', bi(0x07)], ['a ping with a body', bi(0x01, [0xde, 0xad])]] as const) {
      const attacker = await dial(server.port)
      attacker.setNoDelay(true) // its small writes go out at once (Nagle would hold them up to a delayed ACK)
      attacker.on('error', () => {})
      const serverSide = await accept()
      // a well-formed exchange first: data and an empty ping are fine
      attacker.write(Buffer.concat([bi(0x05, [1, 2, 3]), bi(0x01)]))
      await new Promise(resolve => attacker.once('data', resolve))
      const sent = performance.now()
      attacker.write(bytes)
      await closed(attacker)
      const elapsed = performance.now() - sent
      const r = await outcome.get(serverSide)
      // typed as the violation, not as the timeout (1 s) that would otherwise close this silent peer; the
      // bound is generous for a loaded machine and still well below that timeout
      expect(r?.error?.name, what).toBe('ProtocolViolationError')
      expect(elapsed, what).toBeLessThan(500)
      expect(serverSide.destroyed).toBe(true)
    }

    // the good client was never disturbed
    const seen = echoed
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(echoed).toBeGreaterThan(seen)
    expect(good.stats().pongsReceived).toBeGreaterThan(0)
    expect(goodSocket.destroyed).toBe(false)
    sending = false
    await goodWriting
    await good.close()
    expect((await goodReading).ok).toBe(true)
    for (const s of stages) s.abort(new Error('test over'))
  })

  it("mode 'keepalive' keeps a quiet client connected to a type-less peer that closes idle connections after 2 s, for 10 s", async () => {
    const IDLE = 2000
    // the peer: [u32be length][body] frames, echoes each one, closes a connection that sent it nothing for IDLE ms
    const kicked: net.Socket[] = []
    const peerServer = net.createServer((socket) => {
      socket.on('error', () => {})
      let idle = setTimeout(() => { kicked.push(socket); socket.destroy() }, IDLE)
      let buf = Buffer.alloc(0)
      socket.on('data', (chunk) => {
        clearTimeout(idle)
        idle = setTimeout(() => { kicked.push(socket); socket.destroy() }, IDLE)
        buf = Buffer.concat([buf, chunk])
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const n = 4 + buf.readUInt32BE(0)
          socket.write(buf.subarray(0, n))
          buf = buf.subarray(n)
        }
      })
      socket.on('close', () => { clearTimeout(idle) })
    })
    await new Promise<void>(resolve => peerServer.listen(0, '127.0.0.1', resolve))
    const port = (peerServer.address() as net.AddressInfo).port
    cleanups.push(async () => { await new Promise(resolve => peerServer.close(resolve)) })

    const connectQuiet = async (init: HeartbeatInit): Promise<{ socket: net.Socket, link: HeartbeatDuplex, got: string[], reading: Promise<{ ok: boolean, error?: any }> }> => {
      const socket = await dial(port)
      const link = heartbeat(codec(socketDuplex(socket), { format: formats.int32 }), init)
      const got: string[] = []
      const reading = settle((async () => { for await (const x of link.source) got.push(new TextDecoder().decode(x.body)) })())
      return { socket, link, got, reading }
    }
    const quiet = await connectQuiet({ mode: 'keepalive', interval: 500, timeout: 3000 })
    // the control: the same client without keep-alive traffic is kicked by the peer
    const control = await connectQuiet({ mode: 'keepalive', interval: 0, timeout: 0 })
    cleanups.push(() => { quiet.link.abort(new Error('test over')); control.link.abort(new Error('test over')) })
    void settle(quiet.link.sink((async function * () {
      yield f(0, 'first')
      await new Promise(resolve => setTimeout(resolve, 10_000)) // then nothing for 10 s
    })()))

    await new Promise(resolve => setTimeout(resolve, 10_000))
    expect(control.socket.destroyed).toBe(true) // kicked after about IDLE ms
    expect(kicked).toHaveLength(1)
    expect(quiet.socket.destroyed).toBe(false)
    expect(quiet.got).toEqual(['first']) // the echoed keep-alives never reached the application
    const stats = quiet.link.stats()
    expect(stats.pingsSent).toBeGreaterThanOrEqual(10)
    expect(stats.pingsReceived).toBeGreaterThanOrEqual(10) // the echoes: proof of life, not data
    quiet.link.abort(new Error('test over'))
    expect((await quiet.reading).error?.message).toBe('test over')
    await closed(quiet.socket)
  }, 20_000)
})
