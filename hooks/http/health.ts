/**
 * Liveness and readiness. Readiness fails (503) once the server starts closing, so the
 * Service stops sending syncs to a pod that is draining.
 */
import fp from 'fastify-plugin'
import { HttpError } from './errors.js'

const STATUS_SCHEMA = { type: 'object', properties: { status: { type: 'string' } } } as const

export const healthPlugin = fp(
  async (app) => {
    let closing = false
    app.addHook('preClose', async () => {
      closing = true
    })
    // While closing, every answer ends its connection, so Metacontroller's idle keep-alive
    // connections do not hold the shutdown open.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close')
      done(null, payload)
    })
    app.get('/healthz', { schema: { response: { 200: STATUS_SCHEMA } } }, async () => ({ status: 'ok' }))
    app.get('/readyz', { schema: { response: { 200: STATUS_SCHEMA } } }, async () => {
      if (closing) throw new HttpError(503, 'the hook server is shutting down')
      return { status: 'ready' }
    })
  },
  { name: 'monero-operator-health' },
)
