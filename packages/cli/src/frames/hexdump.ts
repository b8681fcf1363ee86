const WIDTH = 16

/**
 * A canonical hex dump (as `hexdump -C`): offset, 16 bytes in two groups of 8, and the printable ASCII
 * characters, one line per 16 bytes, each ending in a newline. An empty body gives no lines.
 */
export function hexDump (bytes: Uint8Array): string {
  let out = ''
  for (let at = 0; at < bytes.length; at += WIDTH) {
    const row = bytes.subarray(at, at + WIDTH)
    let hex = ''
    let ascii = ''
    for (let i = 0; i < WIDTH; i++) {
      if (i === 8) hex += ' '
      const b = row[i]
      hex += b === undefined ? '   ' : ` ${b.toString(16).padStart(2, '0')}`
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7F ? String.fromCharCode(b) : '.'
    }
    out += `${at.toString(16).padStart(8, '0')} ${hex}  |${ascii}|\n`
  }
  return out
}
