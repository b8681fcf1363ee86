/**
 * Where one end of a connection is. Each transport names its kind of address in this map (by `family`);
 * a transport added outside the SDK (WebSocket, QUIC …) adds its own entry by declaration merging:
 *
 * ```ts
 * declare module '@proto/interface' {
 *   interface ConnectionAddresses { websocket: { family: 'websocket', url: string } }
 * }
 * ```
 */
export interface ConnectionAddresses {
  /** A TCP (or TLS) end over IPv4. */
  IPv4: {
    /** Tells this kind of address apart from the others. */
    family: 'IPv4'
    /** The IP address in dotted-decimal form, such as `127.0.0.1`. */
    address: string
    /** The TCP port, 0–65535. */
    port: number
  }
  /** A TCP (or TLS) end over IPv6. */
  IPv6: {
    /** Tells this kind of address apart from the others. */
    family: 'IPv6'
    /** The IP address in IPv6 text form without brackets, such as `::1`. */
    address: string
    /** The TCP port, 0–65535. */
    port: number
  }
  /** A Unix domain socket (or a Windows named pipe). */
  unix: {
    /** Tells this kind of address apart from the others. */
    family: 'unix'
    /** The socket's path in the file system (or the pipe's name). */
    path: string
  }
  /** One end of an in-process pipe, such as transport's `memoryPair()`. */
  memory: {
    /** Tells this kind of address apart from the others. */
    family: 'memory'
    /** Names this end of the pipe (`memory-<n>-a` or `-b` for `memoryPair()`), shown by `formatAddress()`. */
    name: string
  }
}

/** Any address a transport reports: one entry of {@link ConnectionAddresses}. */
export type ConnectionAddress = ConnectionAddresses[keyof ConnectionAddresses]

/** A TCP address from Node's `family`/`address`/`port` triple (a socket's local or remote end, a server's address). */
export function tcpAddress (family: string | number | undefined, address: string | undefined, port: number | undefined): ConnectionAddress | undefined {
  if (address == null || port == null) return undefined
  return { family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4', address, port }
}

/** An address as people write it: `127.0.0.1:7000`, `[::1]:7000`, a Unix path, or a memory pipe's name. */
export function formatAddress (address: ConnectionAddress | undefined): string {
  if (address == null) return 'unknown'
  switch (address.family) {
    case 'IPv4': return `${address.address}:${address.port}`
    case 'IPv6': return `[${address.address}]:${address.port}`
    case 'unix': return address.path
    case 'memory': return address.name
    default: return JSON.stringify(address)
  }
}
