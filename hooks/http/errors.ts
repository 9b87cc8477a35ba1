/**
 * Every error answer of the hook server has one JSON shape, `{error, message, fields}`: the
 * error handler below writes it for whatever a route, a hook or Fastify itself throws, and
 * clientError writes it for HTTP that never became a request.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance } from 'fastify'

/** A field at fault (a dotted path into the request) and what is wrong with it. */
export interface FieldProblem {
  readonly field: string
  readonly message: string
}

/** The body of every 4xx and 5xx answer. */
export interface ErrorBody {
  readonly error: string
  readonly message: string
  readonly fields: readonly FieldProblem[]
}

/** The route schema of ErrorBody (serialised by Fastify, documents the shape). */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  required: ['error', 'message', 'fields'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    fields: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const

/** An answer other than 200, thrown by routes and hooks; the error handler writes it. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly fields: readonly FieldProblem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export function errorBody(statusCode: number, message: string, fields: readonly FieldProblem[] = []): ErrorBody {
  return { error: STATUS_CODES[statusCode] ?? 'Error', message, fields }
}

/**
 * Installs the one error handler (and the 404 handler feeding it). A client mistake Fastify
 * finds in the body (malformed JSON, a wrong content type, a body over the limit) names the
 * field "body"; an unexpected failure is a 500 whose details stay in the log.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500 && !(err instanceof HttpError)) {
      request.log.error({ err }, 'unexpected error')
      return reply.code(500).send(errorBody(500, 'internal error; see the hook server log'))
    }
    if (err instanceof HttpError) {
      if (err.fields.length > 0) request.log.warn({ statusCode: status, fields: err.fields }, 'request rejected')
      return reply
        .code(status)
        .headers(err.headers)
        .send(errorBody(status, err.message, err.fields))
    }
    return reply.code(status).send(errorBody(status, `body: ${err.message}`, [{ field: 'body', message: err.message }]))
  })
  app.setNotFoundHandler((request) => {
    throw new HttpError(404, `no route ${request.method} ${request.url}`)
  })
}

/**
 * Node's answer to HTTP it cannot parse (no request, so no error handler): the same JSON
 * shape, then the connection ends. Written only when nothing was written on the connection
 * yet, so it never interleaves with an answer.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive within the request timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, `malformed HTTP request (${err.code ?? 'parse error'})`]
  if (socket.writable && socket.bytesWritten === 0) {
    const body = JSON.stringify(errorBody(status, message))
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}
