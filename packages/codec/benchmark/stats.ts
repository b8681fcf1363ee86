/** Medians, spreads and number formatting for the benchmark tables. */

export function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Half the range over the median, as a percentage. */
export function spread (values: number[]): string {
  const m = median(values)
  return `±${Math.round(100 * (Math.max(...values) - Math.min(...values)) / 2 / m)}%`
}

export function rate (n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return n.toFixed(0)
}

export function ratio (n: number): string {
  return `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}×`
}

/** Collects one number per round for each named variant, then reports medians and per-round ratios. */
export class Rounds {
  private readonly values = new Map<string, number[]>()

  add (name: string, value: number): void {
    const list = this.values.get(name) ?? []
    list.push(value)
    this.values.set(name, list)
  }

  has (name: string): boolean {
    return this.values.has(name)
  }

  median (name: string): number {
    return median(this.get(name))
  }

  spread (name: string): string {
    return spread(this.get(name))
  }

  /** The median over rounds of `name ÷ base`, each ratio taken within one round. */
  ratio (name: string, base: string): number {
    const a = this.get(name)
    const b = this.get(base)
    return median(a.map((v, i) => v / b[i]))
  }

  private get (name: string): number[] {
    const list = this.values.get(name)
    if (list == null) throw new Error(`no values for ${name}`)
    return list
  }
}
