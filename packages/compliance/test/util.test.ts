import { expect, it } from 'vitest'
import { resourceSnapshot, waitForResources } from '../src/index.js'

it('sees a leaked unref()ed timer, and no false leak once it is cleared', async () => {
  const before = resourceSnapshot()
  const leak = setTimeout(() => {}, 100_000)
  leak.unref()
  expect(await waitForResources(before, 100)).toEqual(['Timeout (incl. unref) +1'])
  clearTimeout(leak)
  expect(await waitForResources(before, 1000)).toEqual([])
})

it('counts a timer that fired as gone', async () => {
  const before = resourceSnapshot()
  await new Promise(resolve => setTimeout(resolve, 5).unref())
  expect(await waitForResources(before, 1000)).toEqual([])
})
