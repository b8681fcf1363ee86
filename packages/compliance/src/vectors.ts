/**
 * Reading test vectors out of a Markdown specification (docs/PROTOCOL.md): its tables are the source of
 * truth, and the suites of every package that speaks the wire format read them rather than copy them.
 */

/** Expands hex as the specification writes it into bytes: `00000005 68656c6c6f`, `ab*3` for a byte repeated; spaces and backticks are ignored. */
export function hexBytes (text: string): Uint8Array {
  const parts: number[] = []
  for (const token of text.replace(/`/g, '').trim().split(/\s+/).filter(Boolean)) {
    const rep = /^([0-9a-f]{2})\*(\d+)$/i.exec(token)
    if (rep != null) {
      for (let i = 0; i < Number(rep[2]); i++) parts.push(parseInt(rep[1], 16))
      continue
    }
    if (!/^([0-9a-f]{2})+$/i.test(token)) throw new Error(`expected hex bytes or a repeat like ab*3, but got the token '${token}'`)
    for (let i = 0; i < token.length; i += 2) parts.push(parseInt(token.slice(i, i + 2), 16))
  }
  return Uint8Array.from(parts)
}

/**
 * The rows of the first table under `heading` in `markdown` (up to the next heading): cells trimmed and
 * stripped of backticks; the header row (first cell `id`) and the rule skipped. Throws when there is no such
 * section or it holds no rows, so a renamed section cannot silently test nothing.
 */
export function markdownTable (markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading)
  if (start < 0) throw new Error(`expected a section '${heading}' in the specification, but there is none`)
  const rows: string[][] = []
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break
    if (!line.startsWith('|') || line.startsWith('|---') || line.startsWith('| id ')) continue
    rows.push(line.split('|').slice(1, -1).map(c => c.trim().replace(/`/g, '')))
  }
  if (rows.length === 0) throw new Error(`expected vectors in a table under '${heading}', but found no rows`)
  return rows
}
