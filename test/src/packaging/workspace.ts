import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The version range the workspace's catalog gives `name` (pnpm-workspace.yaml), for the consumer project. */
export function catalogRange (name: string): string {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')
  const key = name.startsWith('@') ? `"${name}"` : name
  const match = new RegExp(`^  ${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: (\\S+)$`, 'm').exec(yaml)
  if (match?.[1] == null) throw new Error(`expected ${name} in the catalog of pnpm-workspace.yaml, but it is not there`)
  return match[1]
}

/**
 * The TypeScript blocks (```ts) of one `## heading` section of a Markdown file, verbatim, in order. Throws
 * when the section does not have exactly `count` of them, so a README change cannot silently skip a check.
 */
export function readmeSnippets (file: string, heading: string, count: number): string[] {
  const markdown = readFileSync(file, 'utf8')
  const start = markdown.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`expected a "## ${heading}" section in ${file}, but found none`)
  const end = markdown.indexOf('\n## ', start + 1)
  const section = markdown.slice(start, end < 0 ? undefined : end)
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(match => match[1] ?? '')
  if (blocks.length !== count) {
    throw new Error(`expected ${count} \`\`\`ts blocks in the "## ${heading}" section of ${file}, but found ${blocks.length}: update test/test/packaging.test.ts along with the README`)
  }
  return blocks
}
