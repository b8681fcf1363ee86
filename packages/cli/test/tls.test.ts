import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPKI } from './helpers/pki.js'
import { makePKI } from './helpers/pki.js'
import { runProto, startServer } from './helpers/proto.js'

let pki: TestPKI
beforeAll(() => { pki = makePKI() })
afterAll(() => { pki.remove() })

describe('TLS with a certificate made by openssl', () => {
  it('connect --ca talks to listen --cert/--key; without the CA it fails with TLSError; --insecure accepts it', async () => {
    const { proc, port } = await startServer(['listen', '0', '--cert', pki.serverCert, '--key', pki.serverKey, '--echo', '-o', 'none'])
    expect(proc.stderr()).toMatch(/listening on 127\.0\.0\.1:\d+ \(TLS, proto, heartbeat 15s\/45s, echo\)/)
    const ok = await runProto(['connect', `127.0.0.1:${port}`, '--ca', pki.ca], { stdin: 'secret\n' })
    expect(ok.code).toBe(0)
    expect(ok.stdout).toEqual(Buffer.from('secret\n'))
    expect(ok.stderr).toMatch(/connected to 127\.0\.0\.1:\d+ \(TLS, proto,/)

    const untrusted = await runProto(['connect', `127.0.0.1:${port}`, '--tls'], { stdin: 'secret\n' })
    expect(untrusted.code).toBe(1)
    expect(untrusted.stderr).toMatch(/^proto: error: TLSError: /m)
    expect(untrusted.stdout.length).toBe(0)

    const insecure = await runProto(['connect', `127.0.0.1:${port}`, '--insecure'], { stdin: 'anyway\n' })
    expect(insecure.code).toBe(0)
    expect(insecure.stdout).toEqual(Buffer.from('anyway\n'))

    const named = await runProto(['connect', `127.0.0.1:${port}`, '--ca', pki.ca, '--servername', 'localhost'], { stdin: 'by name\n' })
    expect(named.code).toBe(0)
    expect(named.stdout).toEqual(Buffer.from('by name\n'))
    const misnamed = await runProto(['connect', `127.0.0.1:${port}`, '--ca', pki.ca, '--servername', 'elsewhere.example'], { stdin: 'x\n' })
    expect(misnamed.code).toBe(1)
    expect(misnamed.stderr).toMatch(/^proto: error: TLSError: .*ERR_TLS_CERT_ALTNAME_INVALID/m)

    const bench = await runProto(['bench', `localhost:${port}`, '--ca', pki.ca, '--count', '200', '--json'])
    expect(bench.code).toBe(0)
    expect(JSON.parse(bench.stdout.toString())).toMatchObject({ target: `tls://localhost:${port}`, messages: 200 })
    proc.child.kill('SIGINT')
    expect((await proc.exit()).code).toBe(130)
  })

  it('listen --ca requires a client certificate that verifies', async () => {
    const { proc, port } = await startServer(['listen', '0', '--cert', pki.serverCert, '--key', pki.serverKey, '--ca', pki.ca, '--echo', '-o', 'none'])
    const mutual = await runProto(['connect', `127.0.0.1:${port}`, '--ca', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey], { stdin: 'me\n' })
    expect(mutual.code).toBe(0)
    expect(mutual.stdout).toEqual(Buffer.from('me\n'))
    const anonymous = await runProto(['connect', `127.0.0.1:${port}`, '--ca', pki.ca], { stdin: 'me\n' })
    expect(anonymous.code).toBe(1)
    expect(anonymous.stdout.length).toBe(0)
    await proc.waitForStderr(/refused a connection from 127\.0\.0\.1:\d+ \(tls-handshake\)/)
    proc.child.kill('SIGINT')
    await proc.exit()
  })

  it('bad TLS flags are usage errors', async () => {
    const missing = await runProto(['connect', '127.0.0.1:9', '--ca', '/nonexistent/ca.pem'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^proto: cannot read --ca file '\/nonexistent\/ca\.pem': ENOENT/m)
    const half = await runProto(['connect', '127.0.0.1:9', '--cert', pki.clientCert])
    expect(half.code).toBe(2)
    expect(half.stderr).toMatch(/--cert and --key go together/)
    const noKey = await runProto(['listen', '0', '--tls'])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/^proto: TLS \(--tls\) needs the server's --cert and --key$/m)
  })
})
