import { execFile } from 'node:child_process'

/** How a command ended. */
export interface Ran {
  /** Exit code; `null` when it was killed (then `signal` says how). */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** The command line, for messages. */
  command: string
}

/** npm settings from the caller's environment that say how to reach the registry: kept. */
const KEPT = /^npm_config_(registry|cache|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|userconfig|globalconfig)$/i

/**
 * The environment for tools run in the consumer project: the caller's, less what npm and pnpm put there for
 * their own scripts (`npm test` sets `npm_config_local_prefix` to this workspace and `npm_config_prefix`,
 * which would steer a nested `npm install` away from the consumer project), but with the registry settings.
 */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => KEPT.test(key) || !/^(npm|pnpm)_/i.test(key)))
  return { ...env, NO_COLOR: '1', ...extra }
}

/** Runs `file args` in `cwd`, killed after `timeout` ms; never rejects: the result says how it ended. */
export async function run (file: string, args: string[], { cwd, timeout, env = cleanEnv() }: { cwd: string, timeout: number, env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, env, maxBuffer: 64 << 20, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const failure = err as (NodeJS.ErrnoException & { code?: number | string, signal?: NodeJS.Signals | null }) | null
      resolve({
        code: failure == null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        stdout,
        stderr: failure != null && typeof failure.code === 'string' ? `${stderr}\n${failure.message}` : stderr,
        command: [file, ...args].join(' ')
      })
    })
  })
}

/** A message that shows what a command printed, for an assertion that it succeeded. */
export function describeRun (ran: Ran): string {
  const tail = (text: string): string => text.trim().split('\n').slice(-40).join('\n')
  return `${ran.command} → ${ran.code ?? ran.signal}\n--- stdout\n${tail(ran.stdout)}\n--- stderr\n${tail(ran.stderr)}`
}

/** Parses the last line of a command's output as JSON, with the whole run in the error when it is not. */
export function lastJson<T> (ran: Ran): T {
  const line = ran.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as T
  } catch (err) {
    throw new Error(`expected JSON on the last line of the output, but got ${JSON.stringify(line)}\n${describeRun(ran)}`, { cause: err })
  }
}
