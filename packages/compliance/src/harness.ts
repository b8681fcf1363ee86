import type { StageDuplex } from '@proto/interface'

/** Two connected ends. `a` is always the stage under test; `b` is its peer (often the same stage). */
export interface StagePair<T> {
  a: StageDuplex<T>
  b: StageDuplex<T>
  /**
   * Makes the layer beneath `a` fail with `err`, as a socket reset would. Optional: suites skip the
   * lower-failure checks when it is missing.
   */
  breakLower?(err: Error): void
}

export interface ComplianceHarness<T> {
  /** Builds a fresh connected pair for one test. */
  setup(): Promise<StagePair<T>>
  /** Releases what `setup` made (servers, sockets). Runs after every test, passed or failed. */
  teardown?(pair: StagePair<T>): Promise<void>
  /** Makes the `i`-th sample item carrying `size` bytes of payload. */
  item(i: number, size: number): T
  /** The payload bytes of an item, used to compare what was sent with what arrived. */
  bytes(item: T): Uint8Array
  /**
   * `true` when the stage keeps message boundaries (frames arrive as sent); `false` for byte stages,
   * where only the concatenated bytes must match.
   */
  boundaries: boolean
  /**
   * The most payload bytes the pair may hold between a producer and a consumer that stopped reading,
   * including kernel socket buffers. Default 16 MiB.
   */
  maxBuffered?: number
  /** Milliseconds within which cleanup must be complete. Default 2000. */
  cleanupDeadline?: number
}
