import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap plus off-heap `ArrayBuffer` bytes in use after full collections: what is really retained. */
export function retainedBytes (): number {
  gc()
  gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

/** Off-heap `ArrayBuffer` bytes in use after full collections. */
export function retainedArrayBuffers (): number {
  gc()
  gc()
  return process.memoryUsage().arrayBuffers
}
