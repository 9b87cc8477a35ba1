/**
 * readBody: reads a request body as bytes, comparing it with the cached answers' bodies while
 * it arrives.
 *
 * A resync of an unchanged 1000-member network is a 1.6 MB body that the response cache has
 * seen before. Collecting it first and comparing afterwards would hold every such body in
 * memory while it arrives (50 concurrent ones are 80 MB). Instead each chunk is compared with
 * the cached bodies of the same route and Content-Length as it comes, and dropped when it
 * matches: a hit holds no copy of the body. At the first chunk that matches no cached body,
 * the bytes so far are taken from the cached body they matched, and collecting starts.
 *
 * The checks Fastify makes on bodies it reads itself are kept: the body limit (on the
 * declared length and on the bytes received) and a declared length that the bytes must match.
 */
import type { Readable } from 'node:stream'
import { errorCodes } from 'fastify'
import type { CachedAnswer, ResponseCache } from './response-cache.js'

/** A body that matched a cached one byte for byte; the answer to send. */
export class CacheHit<M> {
  constructor(readonly answer: CachedAnswer<M>) {}
}

export interface ReadBodyOptions<M> {
  /** Largest body accepted, in bytes. */
  readonly limit: number
  /** The declared Content-Length header, when there is one. */
  readonly contentLength: string | undefined
  /** The cache and the route its answers are stored under; absent for routes without one. */
  readonly cache?: { readonly store: ResponseCache<M>; readonly route: string }
}

export function readBody<M>(payload: Readable, opts: ReadBodyOptions<M>): Promise<Buffer | CacheHit<M>> {
  return new Promise((resolve, reject) => {
    const declared = opts.contentLength === undefined ? Number.NaN : Number(opts.contentLength)
    if (declared > opts.limit) {
      reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      return
    }
    let candidates: readonly CachedAnswer<M>[] =
      opts.cache && Number.isSafeInteger(declared) && declared > 0 ? opts.cache.store.candidates(opts.cache.route, declared) : []
    let chunks: Buffer[] = []
    let received = 0

    const cleanup = () => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onEnd)
    }
    function onData(data: Buffer | string): void {
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      const start = received
      received += chunk.length
      if (received > opts.limit) {
        cleanup()
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
        return
      }
      if (candidates.length === 0) {
        chunks.push(chunk)
        return
      }
      const still = candidates.filter((c) => received <= c.body.length && c.body.compare(chunk, 0, chunk.length, start, received) === 0)
      if (still.length === 0) {
        // the bytes before this chunk equal the start of any candidate: take them from there
        chunks = start > 0 ? [(candidates[0] as CachedAnswer<M>).body.subarray(0, start), chunk] : [chunk]
      }
      candidates = still
    }
    function onEnd(err?: Error & { statusCode?: number }): void {
      cleanup()
      if (err) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400
        reject(err)
        return
      }
      if (!Number.isNaN(declared) && received !== declared) {
        reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH())
        return
      }
      const match = candidates.find((c) => c.body.length === received)
      if (match) {
        resolve(new CacheHit(match))
        return
      }
      // a copy, never a view over the socket's read buffer (as Fastify does)
      resolve(Buffer.concat(chunks, received))
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onEnd)
    payload.resume()
  })
}
