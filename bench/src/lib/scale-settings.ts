/** The heartbeat policy of the scale test's servers (and of its session clients, which HELLO makes match). */
export const SCALE_INTERVAL = 1_000
export const SCALE_TIMEOUT = 5_000
