/**
 * A small deterministic pseudo-random generator, so a chaos run is reproducible from its seed.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded
 * through splitmix32 so that nearby seeds (1, 2, 3 …) give unrelated streams. It is not cryptographic.
 */
export interface Random {
  /** The 32-bit seed this generator started from. */
  readonly seed: number
  /** A float in `[0, 1)`. */
  next(): number
  /** An integer in `[min, max]`, both inclusive. `min` must not exceed `max`. */
  int(min: number, max: number): number
  /**
   * A new generator whose stream depends only on this generator's seed and `label`, not on how many
   * numbers were drawn here. Lets independent consumers (fault schedule, fragment sizes) stay stable
   * when another one draws more or less.
   */
  fork(label: number): Random
}

/** Reduces any number to an unsigned 32-bit seed. */
export function toSeed (value: number): number {
  if (!Number.isFinite(value)) return 0
  return Math.trunc(value) >>> 0
}

/** A random unsigned 32-bit seed, for runs that did not ask for one (report it to reproduce the run). */
export function randomSeed (): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0
}

function splitmix32 (state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** Returns a seeded generator; the same seed always yields the same sequence. */
export function seededRandom (seed: number): Random {
  const s = toSeed(seed)
  const mix = splitmix32(s)
  let a = mix()
  let b = mix()
  let c = mix()
  let d = mix()

  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  // Discard the first outputs: sfc32 mixes its state over its first few rounds.
  for (let i = 0; i < 12; i++) nextU32()

  return {
    seed: s,
    next: () => nextU32() / 0x1_0000_0000,
    int: (min, max) => min + Math.floor((nextU32() / 0x1_0000_0000) * (max - min + 1)),
    fork: label => seededRandom((s ^ Math.imul(toSeed(label) + 1, 0x9e3779b1)) >>> 0)
  }
}
