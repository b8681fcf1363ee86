import type { Frame } from '@proto/codec'
import type { StagePair } from '@proto/stage-compliance'
import { memoryBytePair, stageCompliance } from '@proto/stage-compliance'
import type { SessionDuplex, SessionServer } from '../src/index.js'
import { sessionClient, sessionServer } from '../src/index.js'

class NoFarEndError extends Error {
  constructor () {
    super('the compliance far end accepts one connection only')
    this.name = 'NoFarEndError'
  }
}

const servers = new Map<StagePair<Frame>, SessionServer>()

/**
 * `a` is a session client over one end of a memory byte pair; `b` is the session the server made for
 * it. The far end takes one connection, so a redial fails fatally and a broken lower layer surfaces from
 * `a.source`. Half-close is the session's END; abort tells the peer the session is closed.
 */
stageCompliance<Frame>('session client and server session over a memory byte pair', {
  boundaries: true,
  async setup (): Promise<StagePair<Frame>> {
    const pair = memoryBytePair()
    const server = sessionServer()
    const session = new Promise<SessionDuplex>((resolve) => { server.addEventListener('session', (e) => { resolve(e.detail) }, { once: true }) })
    void server.handle(pair.b)
    let dialled = false
    const a = sessionClient(async () => {
      if (dialled) throw new NoFarEndError()
      dialled = true
      return pair.a
    }, { initialDelay: 1, shouldRetry: err => err.name !== 'NoFarEndError' })
    const result = { a, b: await session, breakLower: pair.reset }
    servers.set(result, server)
    return result
  },
  async teardown (pair) {
    servers.get(pair)?.abort(new Error('test over'))
    servers.delete(pair)
  },
  item: (i, size) => ({ type: 0x40, body: new Uint8Array(size).fill(i & 0xff) }),
  bytes: frame => frame.body
})
