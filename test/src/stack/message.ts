/**
 * The messages the stack tests stream: `[u32be client][u32be seq][payload]`, where every payload byte is
 * a function of (client, seq, index), so corruption, truncation or a body from another message is caught.
 */

/** Application frame type of test messages (the first application type). */
export const MESSAGE_TYPE = 0x40

/** Bytes of the `[client][seq]` header. */
export const MESSAGE_HEADER = 8

function payloadByte (client: number, seq: number, i: number): number {
  return (client * 131 + seq * 31 + i * 7) & 0xff
}

/** Builds the body of message `seq` of `client`, `size` bytes long (at least the 8-byte header). */
export function messageBody (client: number, seq: number, size: number): Uint8Array {
  const body = new Uint8Array(Math.max(MESSAGE_HEADER, size))
  const view = new DataView(body.buffer)
  view.setUint32(0, client)
  view.setUint32(4, seq)
  for (let i = MESSAGE_HEADER; i < body.byteLength; i++) body[i] = payloadByte(client, seq, i)
  return body
}

/** A decoded message, or `undefined` when the body is not a well-formed test message. */
export function readMessage (body: Uint8Array): { client: number, seq: number, size: number } | undefined {
  if (body.byteLength < MESSAGE_HEADER) return undefined
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const client = view.getUint32(0)
  const seq = view.getUint32(4)
  for (let i = MESSAGE_HEADER; i < body.byteLength; i++) {
    if (body[i] !== payloadByte(client, seq, i)) return undefined
  }
  return { client, seq, size: body.byteLength }
}
