import type { Frame } from '@proto/codec'
import type { ByteDuplex } from '@proto/interface'
import { createLogger, InvalidParametersError, ProtocolVersionError, raceSignal, toError, validate } from '@proto/interface'
import type { DialContext } from '@proto/reconnect'
import { defaults as linkDefaults } from '@proto/reconnect'
import { completedConnection } from './completed.js'
import type { ConnectionSettings } from './connection.js'
import { SessionConnection } from './connection.js'
import { SESSION_FLAG } from './constants.js'
import { SessionEndpoint } from './endpoint.js'
import { ConnectionLostError, SessionLostError, SessionProtocolError, SessionRefusedError } from './errors.js'
import { stageFailure } from './handshake.js'
import type { SessionItem } from './inbound.js'
import { resolveCommon } from './options.js'
import { SessionState } from './state.js'
import type { LostPolicy, SessionClientInit, SessionDuplex, SessionFrames } from './types.js'

const POLICIES: readonly LostPolicy[] = ['replay', 'drop', 'fail']

/** The reconnect options a session client sets itself, and why. */
const OWN_OPTIONS = {
  retention: 'every item is kept until the server acknowledges it; its bounds are `window`',
  peerEnd: 'the session decides what the end of a connection means',
  validate: 'items are frames, checked by the session'
} as const

/** Bad options found when the stack was made on a connection: every connection would fail the same way. */
const stackRefused = new WeakSet<Error>()

/**
 * Why the stack ended before the server's HELLO was accepted: the stage's own failure when it refused the
 * HELLO (a `ProtocolVersionError` for another version, which is not retried), else the connection's end.
 */
async function endedBeforeHello (lower: SessionFrames): Promise<Error> {
  return await stageFailure(lower) ?? new ConnectionLostError('The connection ended before the server\'s HELLO arrived')
}

/** Whether a session client gives up on `err` rather than dialling again. */
function fatal (err: Error, onLost: LostPolicy): boolean {
  if (stackRefused.has(err)) return true
  if (err instanceof ProtocolVersionError || err instanceof SessionProtocolError) return true
  if (err instanceof SessionLostError) return onLost === 'fail'
  if (err instanceof SessionRefusedError) return err.code === 5 // DO_NOT_RETRY
  return false
}

/**
 * A session client: one durable duplex of frames whose items reach the server's application exactly once
 * and in order, and whose source yields the server's items exactly once and in order, across any number
 * of reconnects. `dial` opens one byte connection (e.g. `@proto/transport`'s `connect`); each is wrapped
 * in the codec and heartbeat (HELLO with the session flag), the session resumed on it, and what the
 * server lacks sent again. Throws `InvalidParametersError` at once on a bad option.
 */
export function sessionClient (dial: (context: DialContext) => Promise<ByteDuplex>, init: SessionClientInit = {}): SessionDuplex {
  validate.fn('dial', dial as ((context: DialContext) => Promise<ByteDuplex>) | undefined)
  if (dial === undefined) validate.invalid('dial', 'a function returning a promise of a byte duplex', dial)
  // options of reconnect() the session sets itself: given anyway, they would be silently overridden
  for (const name of ['retention', 'peerEnd', 'validate'] as const) {
    if ((init as Record<string, unknown>)[name] !== undefined) throw new InvalidParametersError(`expected no ${name} option: a session client sets it itself (${OWN_OPTIONS[name]})`)
  }
  const common = resolveCommon(init, 'client', 0)
  const onLost = validate.oneOf('onLost', init.onLost, POLICIES, 'replay')
  const userRetry = validate.fn('shouldRetry', init.shouldRetry, () => true)
  const log = createLogger('session')
  // a complete session lingers for the server's word that it has our last acknowledgement, as long as close() may wait
  const settings: ConnectionSettings = { acks: common.acks, inbound: common.inbound, timers: common.timers, log, linger: common.link.closeTimeout ?? linkDefaults.DEFAULT_CLOSE_TIMEOUT }
  const state = new SessionState('client', common.params)
  const { onLost: _ignored, shouldRetry: _retry, ...linkInit } = init
  const open = async (ctx: DialContext): Promise<SessionConnection | ReturnType<typeof completedConnection>> => {
    if (state.complete) {
      if (state.lingerOver) return completedConnection(ctx)
      // lingering, and the connection was lost: one RESUME carries our acknowledgement of the server's END
      // again (or learns the server has it); whatever comes of it, the next dial completes the session
      state.lingerOver = true
    }
    const conn = await dial(ctx)
    let lower: SessionFrames
    try {
      lower = common.stack(conn)
    } catch (thrown) {
      const err = toError(thrown)
      // `conn` may be no duplex at all (the dial returned something else): refused as a bad option
      ;(conn as ByteDuplex | null | undefined)?.abort?.(err)
      if (err instanceof InvalidParametersError) stackRefused.add(err)
      throw err
    }
    let stage: SessionConnection | undefined
    try {
      const hello = await raceSignal(lower.peerHello, ctx.signal)
      if (hello === undefined) throw await endedBeforeHello(lower)
      if ((hello.flags & SESSION_FLAG) === 0) {
        throw new ProtocolVersionError('The server did not announce the session extension in its HELLO: it speaks version 1 only. Use a plain client (reconnect over heartbeat and codec) for it', { version: hello.version, supported: hello.version })
      }
      const resuming = state.token !== undefined
      stage = new SessionConnection({
        state,
        ctx,
        lower,
        iterator: lower.source,
        leftover: [],
        peer: undefined,
        settings,
        endpoint
      })
      await raceSignal(stage.ready, ctx.signal)
      endpoint.opened(resuming, stage.resumeHas)
      return stage
    } catch (err) {
      // through the stage: if the whole link is ending, it tells the server the session is closed
      if (stage !== undefined) stage.abort(toError(err))
      else lower.abort(toError(err))
      throw err
    }
  }

  const endpoint: SessionEndpoint = new SessionEndpoint({
    state,
    log,
    onLost,
    dial: open as (ctx: DialContext) => Promise<SessionConnection>,
    link: {
      ...linkInit,
      ...common.link,
      // a session lost while close() rides out an outage ends the close (nothing is replayed into a new session)
      shouldRetry: (err: Error): boolean => !fatal(err, onLost) && !(err instanceof SessionLostError && endpoint.status === 'closing') && userRetry(err)
    }
  })
  return endpoint
}

export type { Frame, SessionItem }
