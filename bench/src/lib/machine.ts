/** What the results were measured on. */
import { readFileSync } from 'node:fs'
import os from 'node:os'

export interface Machine { cpu: string, cores: number, memory: string, os: string, node: string, date: string }

export function machine (): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / (1 << 30)).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  }
}

/** This process's soft limit on open files (Linux `/proc/self/limits`); `Infinity` when unknown. */
export function fdLimit (): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    const soft = line?.split(/\s{2,}/)[1]
    if (soft === undefined) return Infinity
    return soft === 'unlimited' ? Infinity : Number(soft)
  } catch {
    return Infinity
  }
}
