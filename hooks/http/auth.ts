/**
 * Metacontroller's webhook authorization: with a token configured, every route of the context
 * this plugin is registered in requires `Authorization: Bearer <token>`. Checked in onRequest,
 * on the request line and headers, before a byte of the body is read.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { HttpError } from './errors.js'

export interface BearerAuthOptions {
  /** Undefined: no check. */
  readonly token?: string | undefined
}

/** Compares a presented Authorization header with the token in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : ''
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return presented.length > 0 && timingSafeEqual(a, b)
}

export const bearerAuthPlugin = fp<BearerAuthOptions>(
  async (app, { token }) => {
    if (token === undefined) return
    app.addHook('onRequest', async (request) => {
      if (bearerMatches(request.headers.authorization, token)) return
      throw new HttpError(401, 'a valid Authorization: Bearer token is required', [], { 'www-authenticate': 'Bearer' })
    })
  },
  { name: 'monero-operator-bearer-auth' },
)
