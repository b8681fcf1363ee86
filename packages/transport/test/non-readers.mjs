// Opens `n` connections to 127.0.0.1:`port` that send until their sockets push back and never read,
// then tells the parent. Used by write-stall.test.ts to hold attackers outside the measured process.
import net from 'node:net'

const [port, n] = process.argv.slice(2).map(Number)
const chunk = Buffer.alloc(64 * 1024, 1)
let blocked = 0
for (let i = 0; i < n; i++) {
  const s = net.connect({ host: '127.0.0.1', port })
  s.pause()
  s.on('error', () => {})
  let counted = false
  const pump = () => {
    while (!s.destroyed && s.write(chunk)) { /* until it pushes back */ }
    if (!counted) {
      counted = true
      if (++blocked === n) process.send?.('blocked')
    }
  }
  s.on('connect', pump)
  s.on('drain', pump)
}
// bounded: the parent kills this process; never outlive it by more than a minute
setTimeout(() => { process.exit(0) }, 60_000).unref()
process.on('disconnect', () => { process.exit(0) })
