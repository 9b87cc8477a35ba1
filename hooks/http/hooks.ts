/**
 * The hook routes, one pair per kind in the kinds table (HANDLERS): `/hooks/<kind>/sync` and,
 * for kinds that have one, `/hooks/<kind>/customize`. A route is a thin adapter: the body is
 * parsed by Fastify, handleSync() validates and syncs, the answer or a 4xx goes back.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import { HANDLERS, handleSync, isHookError, warmUp, type KindHandler } from '../handlers.js'
import { HookRequestError } from '../metacontroller.js'
import type { HookConfig } from '../config.js'
import { bearerAuthPlugin } from './auth.js'
import { ERROR_BODY_SCHEMA, HttpError } from './errors.js'

export interface HookRoutesOptions {
  readonly config: HookConfig
  /** Clock for condition transitions (tests pin it). */
  readonly now: () => Date
  readonly bearerToken?: string | undefined
}

/** Error answers are serialised from their schema; a 200 is the sync answer as built. */
const RESPONSES = { '4xx': ERROR_BODY_SCHEMA, '5xx': ERROR_BODY_SCHEMA }

/** A compressed body would be read as if it were JSON text: refused before it is read. */
function refuseEncodedBody(
  request: FastifyRequest,
  _reply: FastifyReply,
  payload: RequestPayload,
  done: (err: Error | null, payload?: RequestPayload) => void,
): void {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase()
  if (encoding && encoding !== 'identity') {
    done(
      new HttpError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the JSON uncompressed`, [
        { field: 'content-encoding', message: 'must be absent or identity' },
      ]),
    )
    return
  }
  done(null, payload)
}

const parentRef = (body: unknown, kind: string) => {
  const metadata = (body as { parent?: { metadata?: { namespace?: unknown; name?: unknown } } } | null)?.parent?.metadata
  return { namespace: metadata?.namespace, name: metadata?.name, kind }
}

export const hookRoutes: FastifyPluginAsync<HookRoutesOptions> = async (app, opts) => {
  await app.register(bearerAuthPlugin, { token: opts.bearerToken })
  // the generated CRD validators are loaded before the first request, not during it
  app.addHook('onReady', async () => warmUp())
  app.addHook('preParsing', refuseEncodedBody)

  const sync = (handler: KindHandler) => {
    const hook = `${handler.route}/sync`
    app.post(`/hooks/${hook}`, { config: { hook }, schema: { response: RESPONSES } }, async (request) => {
      const now = opts
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
      const result = handleSync(handler, request.body, { config: opts.config, now })
      const parent = parentRef(request.body, handler.kind)
      if (isHookError(result)) {
        request.log.warn({ parent }, 'sync rejected')
        throw new HttpError(result.statusCode, result.message, result.fields)
      }
      request.log.info({ parent, children: result.children.length, ready: result.status.readyReplicas }, 'sync')
      return result
    })
  }
  const customize = (handler: KindHandler) => {
    const customizeFn = handler.customize
    if (!customizeFn) return
    const hook = `${handler.route}/customize`
    app.post(`/hooks/${hook}`, { config: { hook }, schema: { response: RESPONSES } }, async (request) => {
      try {
        return customizeFn(request.body)
      } catch (err) {
        if (err instanceof HookRequestError) throw new HttpError(err.statusCode, err.message, [{ field: err.field, message: err.message }])
        throw err
      }
    })
  }
  for (const handler of HANDLERS) {
    sync(handler)
    customize(handler)
  }
}
