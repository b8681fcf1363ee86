import type { Frame } from '@proto/codec'
import { describe, expect, it } from 'vitest'
import { MAX_QUEUED_PONG_BYTES, MAX_QUEUED_PONGS } from '../src/constants.js'
import { ControlQueue } from '../src/control-queue.js'

const PING = 0x02
const PONG = 0x03
const frame = (type: number, size = 8, tag = 0): Frame => ({ type, body: new Uint8Array(size).fill(tag) })

describe('ControlQueue', () => {
  it('hands frames out in the order queued, one alone or many, and is empty after', () => {
    const q = new ControlQueue(PONG)
    expect(q.length).toBe(0)
    expect(q.shift()).toBeUndefined()
    const one = frame(PING)
    q.push(one)
    expect(q.length).toBe(1)
    expect(q.shift()).toBe(one)
    expect(q.length).toBe(0)

    const frames = [frame(PING, 8, 1), frame(PONG, 8, 2), frame(0x05, 4, 3), frame(PONG, 8, 4)]
    q.push(frames[0] as Frame)
    expect(q.offerPong(frames[1] as Frame)).toBe(true)
    q.push(frames[2] as Frame)
    const taken = [q.shift()]
    expect(q.offerPong(frames[3] as Frame)).toBe(true) // queued while others wait
    expect(q.length).toBe(3)
    while (q.length > 0) taken.push(q.shift())
    expect(taken).toEqual(frames)
    expect(q.shift()).toBeUndefined()
  })

  it('bounds the pongs waiting by count and bytes, and frees their room as they go', () => {
    const q = new ControlQueue(PONG)
    for (let i = 0; i < MAX_QUEUED_PONGS; i++) expect(q.offerPong(frame(PONG))).toBe(true)
    expect(q.offerPong(frame(PONG))).toBe(false)
    q.push(frame(PING)) // our own frames are always accepted
    expect(q.length).toBe(MAX_QUEUED_PONGS + 1)
    q.shift()
    expect(q.offerPong(frame(PONG))).toBe(true)
    while (q.length > 0) q.shift()

    // one pong is taken whatever its size; beyond it the bytes count
    expect(q.offerPong(frame(PONG, MAX_QUEUED_PONG_BYTES + 1))).toBe(true)
    expect(q.offerPong(frame(PONG, 1))).toBe(false)
    q.shift()
    expect(q.offerPong(frame(PONG, MAX_QUEUED_PONG_BYTES))).toBe(true)
    expect(q.offerPong(frame(PONG, 1))).toBe(false)
  })
})
