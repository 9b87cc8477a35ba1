/**
 * HTTP Digest access authentication, client side (RFC 7616, compatible with RFC 2617), as
 * needed for monerod's `--rpc-login user:pass`.
 *
 * monerod answers an unauthenticated request with 401 and *two* challenges (seen on 0.18.0.0):
 * ```
 * WWW-authenticate: Digest qop="auth",algorithm=MD5,realm="monero-rpc",nonce="…",stale=false
 * WWW-authenticate: Digest qop="auth",algorithm=MD5-sess,realm="monero-rpc",nonce="…",stale=false
 * ```
 * Supported: algorithms MD5, MD5-sess, SHA-256, SHA-256-sess; qop `auth` (and the legacy
 * no-qop form). `auth-int` is not supported (monerod never asks for it).
 *
 * {@link DigestAuth} keeps the last challenge so later requests authenticate pre-emptively,
 * counting `nc` up per nonce; a new nonce (or `stale=true`) restarts the count.
 */
import { createHash, randomBytes } from 'node:crypto'

/** One parsed authentication challenge, e.g. `Digest realm="x", nonce="y"`. */
export interface AuthChallenge {
  /** Scheme as sent, e.g. "Digest". Compare case-insensitively. */
  scheme: string
  /** auth-params; names lower-cased, quoted values unescaped. */
  params: Record<string, string>
}

/** The Digest parameters the client uses to answer. */
export interface DigestChallenge {
  realm: string
  nonce: string
  /** Canonical algorithm name, e.g. "MD5" or "SHA-256-sess". */
  algorithm: DigestAlgorithm
  /** "auth" or undefined for the RFC 2069 form. */
  qop: 'auth' | undefined
  opaque: string | undefined
  stale: boolean
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess'

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/**
 * Parses one or more WWW-Authenticate header values into challenges. Accepts the values as an
 * array (one per header line) or as one string in which several challenges were joined with
 * commas (what `fetch`'s `Headers.get` produces for repeated headers).
 */
export function parseAuthenticateHeader(values: string | readonly string[]): AuthChallenge[] {
  const list = typeof values === 'string' ? [values] : values
  const out: AuthChallenge[] = []
  for (const value of list) out.push(...parseOne(value))
  return out
}

function parseOne(s: string): AuthChallenge[] {
  const out: AuthChallenge[] = []
  let i = 0
  const n = s.length
  const skipWs = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++
  }
  const readToken = (): string => {
    const start = i
    while (i < n && TOKEN.test(s[i] ?? '')) i++
    return s.slice(start, i)
  }
  const readValue = (): string => {
    if (s[i] !== '"') return readToken()
    i++
    let v = ''
    while (i < n && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < n) i++
      v += s[i]
      i++
    }
    i++ // closing quote
    return v
  }
  let current: AuthChallenge | undefined
  while (i < n) {
    skipWs()
    if (s[i] === ',') {
      i++
      continue
    }
    const save = i
    const name = readToken()
    if (name === '') {
      i++ // not a token character: skip it rather than loop forever
      continue
    }
    skipWs()
    if (s[i] === '=' && current !== undefined) {
      // auth-param of the current challenge (or a token68 like "abc==": ignore those)
      i++
      skipWs()
      if (s[i] === '=' || s[i] === ',' || i >= n) {
        while (i < n && s[i] === '=') i++
        continue
      }
      current.params[name.toLowerCase()] = readValue()
      continue
    }
    if (s[i] === '=' && current === undefined) {
      // parameter without a scheme: malformed, skip the value
      i++
      skipWs()
      readValue()
      continue
    }
    i = save + name.length
    current = { scheme: name, params: {} }
    out.push(current)
  }
  return out
}

/**
 * Picks the first Digest challenge whose algorithm and qop this client supports, in the
 * server's order (RFC 7616 §3.7: servers list the preferred challenge first).
 */
export function selectDigestChallenge(challenges: readonly AuthChallenge[]): DigestChallenge | undefined {
  for (const c of challenges) {
    if (c.scheme.toLowerCase() !== 'digest') continue
    const { realm, nonce } = c.params
    if (realm === undefined || nonce === undefined) continue
    const algorithm = ALGORITHMS[(c.params.algorithm ?? 'MD5').toLowerCase()]
    if (algorithm === undefined) continue
    let qop: 'auth' | undefined
    if (c.params.qop !== undefined) {
      const offered = c.params.qop.split(',').map((q) => q.trim().toLowerCase())
      if (!offered.includes('auth')) continue // auth-int only
      qop = 'auth'
    }
    return {
      realm,
      nonce,
      algorithm,
      qop,
      opaque: c.params.opaque,
      stale: (c.params.stale ?? '').toLowerCase() === 'true',
    }
  }
  return undefined
}

function hashFor(algorithm: DigestAlgorithm): (s: string) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5'
  return (s) => createHash(name).update(s, 'utf8').digest('hex')
}

/** Inputs of {@link computeDigestResponse}. */
export interface DigestResponseInput {
  username: string
  password: string
  method: string
  uri: string
  challenge: DigestChallenge
  /** Nonce count, 1-based. */
  nc: number
  cnonce: string
}

/** The `response` value of RFC 7616 §3.4.1 (and RFC 2617 §3.2.2.1). */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { username, password, method, uri, challenge, nc, cnonce } = input
  const H = hashFor(challenge.algorithm)
  let ha1 = H(`${username}:${challenge.realm}:${password}`)
  if (challenge.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${challenge.nonce}:${cnonce}`)
  const ha2 = H(`${method}:${uri}`)
  if (challenge.qop === undefined) return H(`${ha1}:${challenge.nonce}:${ha2}`)
  return H(`${ha1}:${challenge.nonce}:${formatNc(nc)}:${cnonce}:${challenge.qop}:${ha2}`)
}

/** `nc` as 8 lower-case hex digits. */
export function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0')
}

function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`
}

/** Builds the full `Authorization: Digest …` header value. */
export function renderDigestAuthorization(input: DigestResponseInput): string {
  const { username, uri, challenge, nc, cnonce } = input
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${challenge.algorithm}`,
    `response=${quote(computeDigestResponse(input))}`,
  ]
  if (challenge.qop !== undefined) {
    parts.push(`qop=${challenge.qop}`, `nc=${formatNc(nc)}`, `cnonce=${quote(cnonce)}`)
  }
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`)
  return `Digest ${parts.join(', ')}`
}

/**
 * Stateful Digest credentials for one server: remembers the last challenge and counts `nc`.
 * Not safe to share across servers (nonces are per server).
 */
export class DigestAuth {
  private challenge: DigestChallenge | undefined
  private nc = 0

  constructor(
    private readonly username: string,
    private readonly password: string,
    /** Injectable for tests; defaults to 16 random bytes, hex. */
    private readonly makeCnonce: () => string = () => randomBytes(16).toString('hex'),
  ) {}

  /** True once a usable challenge has been seen. */
  get hasChallenge(): boolean {
    return this.challenge !== undefined
  }

  /**
   * Takes the WWW-Authenticate values of a 401. Returns false when no Digest challenge this
   * client can answer is present (the caller should then give up with the 401).
   */
  acceptChallenge(values: string | readonly string[]): boolean {
    const next = selectDigestChallenge(parseAuthenticateHeader(values))
    if (next === undefined) return false
    if (this.challenge === undefined || this.challenge.nonce !== next.nonce) this.nc = 0
    this.challenge = next
    return true
  }

  /** Authorization header for the next request, or undefined before any challenge. */
  authorize(method: string, uri: string): string | undefined {
    if (this.challenge === undefined) return undefined
    this.nc += 1
    return renderDigestAuthorization({
      username: this.username,
      password: this.password,
      method,
      uri,
      challenge: this.challenge,
      nc: this.nc,
      cnonce: this.makeCnonce(),
    })
  }

  /** Forgets the challenge (e.g. after the server rejected our answer twice). */
  reset(): void {
    this.challenge = undefined
    this.nc = 0
  }
}
