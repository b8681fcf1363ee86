import { echo, startEchoServer } from './echo.js'

const server = await startEchoServer()
const { port } = server.address as { port: number }
console.log(`echo server on 127.0.0.1:${port}`)

const texts = process.argv.length > 2 ? process.argv.slice(2) : ['hello', 'framed', 'world']
const replies = await echo(port, texts)
for (let i = 0; i < texts.length; i++) console.log(`sent ${JSON.stringify(texts[i])} → echoed ${JSON.stringify(replies[i])}`)

await server.close()
process.exitCode = replies.length === texts.length && replies.every((r, i) => r === texts[i]) ? 0 : 1
