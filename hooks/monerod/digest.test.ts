// Pure tests of the Digest helpers. The handshake against a server is in client.test.ts;
// against real monerod in e2e/integration/monerod-client.test.ts.
import t from 'tap'
import { createHash } from 'node:crypto'

import { DigestAuth, computeDigestResponse, parseAuthenticateHeader, selectDigestChallenge, type DigestChallenge } from './digest.js'

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')

// monerod 0.18.0.0 sends these two header lines on 401 (copied from a live node).
const MONEROD_401 = [
  'Digest qop="auth",algorithm=MD5,realm="monero-rpc",nonce="0I4o774jtpvQW0Ee3KYpwg==",stale=false',
  'Digest qop="auth",algorithm=MD5-sess,realm="monero-rpc",nonce="0I4o774jtpvQW0Ee3KYpwg==",stale=false',
]

t.test('parses monerod challenges given as separate lines or comma-joined', async (t) => {
  for (const input of [MONEROD_401, MONEROD_401.join(', ')]) {
    const cs = parseAuthenticateHeader(input)
    t.equal(cs.length, 2)
    t.same(cs[0], {
      scheme: 'Digest',
      params: { qop: 'auth', algorithm: 'MD5', realm: 'monero-rpc', nonce: '0I4o774jtpvQW0Ee3KYpwg==', stale: 'false' },
    })
    t.equal(cs[1]?.params.algorithm, 'MD5-sess')
  }
})

t.test('parses quoted escapes, spaces and other schemes', async (t) => {
  const cs = parseAuthenticateHeader('Basic realm="a, b", Digest realm="r\\"x", nonce=abc, qop="auth,auth-int", opaque="o"')
  t.equal(cs.length, 2)
  t.same(cs[0], { scheme: 'Basic', params: { realm: 'a, b' } })
  t.same(cs[1]?.params, { realm: 'r"x', nonce: 'abc', qop: 'auth,auth-int', opaque: 'o' })
  t.same(
    parseAuthenticateHeader('Bearer abc==, Digest realm="r", nonce="n"').map((c) => c.scheme),
    ['Bearer', 'Digest'],
  )
  t.same(parseAuthenticateHeader(''), [])
})

t.test('selects the first supported Digest challenge', async (t) => {
  const c = selectDigestChallenge(parseAuthenticateHeader(MONEROD_401))
  t.match(c, { algorithm: 'MD5', qop: 'auth', realm: 'monero-rpc', stale: false })
  t.equal(selectDigestChallenge(parseAuthenticateHeader('Digest realm="r", nonce="n", algorithm=SHA-512-256')), undefined)
  t.equal(selectDigestChallenge(parseAuthenticateHeader('Digest realm="r", nonce="n", qop="auth-int"')), undefined)
  t.equal(selectDigestChallenge(parseAuthenticateHeader('Basic realm="r"')), undefined)
  t.match(selectDigestChallenge(parseAuthenticateHeader('Digest realm="r", nonce="n", stale=TRUE')), {
    algorithm: 'MD5',
    qop: undefined,
    stale: true,
  })
})

t.test('computes RFC 2617 responses', async (t) => {
  // The worked example of RFC 2617 §3.5.
  const challenge: DigestChallenge = {
    realm: 'testrealm@host.com',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    algorithm: 'MD5',
    qop: 'auth',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    stale: false,
  }
  const input = { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', challenge, nc: 1, cnonce: '0a4f113b' }
  t.equal(computeDigestResponse(input), '6629fae49393a05397450978507c4ef1')
  // MD5-sess and the no-qop form, from the definitions.
  const ha1 = md5(`${md5('u:r:p')}:n:c`)
  t.equal(
    computeDigestResponse({
      ...input,
      username: 'u',
      password: 'p',
      challenge: { ...challenge, realm: 'r', nonce: 'n', algorithm: 'MD5-sess' },
      cnonce: 'c',
      nc: 2,
    }),
    md5(`${ha1}:n:00000002:c:auth:${md5('GET:/dir/index.html')}`),
  )
  t.equal(
    computeDigestResponse({ ...input, username: 'u', password: 'p', challenge: { ...challenge, realm: 'r', nonce: 'n', qop: undefined } }),
    md5(`${md5('u:r:p')}:n:${md5('GET:/dir/index.html')}`),
  )
  // RFC 7616 §3.9.1 SHA-256 example.
  t.equal(
    computeDigestResponse({
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      challenge: {
        realm: 'http-auth@example.org',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        algorithm: 'SHA-256',
        qop: 'auth',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        stale: false,
      },
      nc: 1,
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  )
})

t.test('DigestAuth counts nc per nonce and restarts on a new nonce', async (t) => {
  const auth = new DigestAuth('user', 'pass', () => 'cn')
  t.equal(auth.authorize('POST', '/json_rpc'), undefined, 'nothing before a challenge')
  t.equal(auth.acceptChallenge('Basic realm="x"'), false)
  t.ok(auth.acceptChallenge(MONEROD_401))
  t.match(auth.authorize('POST', '/json_rpc'), /nc=00000001/)
  const second = auth.authorize('POST', '/get_height') ?? ''
  t.match(second, /nc=00000002/)
  t.match(
    second,
    /^Digest username="user", realm="monero-rpc", nonce="0I4o774jtpvQW0Ee3KYpwg==", uri="\/get_height", algorithm=MD5, response="[0-9a-f]{32}", qop=auth, nc=00000002, cnonce="cn"$/,
  )
  t.ok(auth.acceptChallenge(MONEROD_401), 'same nonce again keeps counting')
  t.match(auth.authorize('POST', '/x'), /nc=00000003/)
  t.ok(auth.acceptChallenge('Digest realm="monero-rpc", nonce="other", qop="auth"'))
  t.match(auth.authorize('POST', '/x'), /nc=00000001/)
  auth.reset()
  t.equal(auth.hasChallenge, false)
})
