/**
 * readBody: reads a request body as bytes, comparing it with the cached answers' bodies while
 * it arrives.
 *
 * A resync of an unchanged 1000-member network is a 1.6 MB body that the response cache has
 * seen before. Collecting it first and comparing afterwards would hold every such body in
 * memory while it arrives (50 concurrent ones are 80 MB). Instead each chunk is compared with
 * the cached bodies of the same route and Content-Length as it comes, and dropped when it
 * matches: a hit holds no copy of the body. At the first chunk that matches no cached body,
 * the bytes so far are taken from the cached body they matched, and collecting starts. A body
 * being collected looks again when answers are stored meanwhile: of many identical bodies
 * arriving together, the first answered lets the others drop what they hold.
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

/** Whether `body` begins with the `length` bytes held in `chunks`. */
function startsWith(body: Buffer, chunks: readonly Buffer[], length: number): boolean {
  if (length > body.length) return false
  let offset = 0
  for (const chunk of chunks) {
    if (body.compare(chunk, 0, chunk.length, offset, offset + chunk.length) !== 0) return false
    offset += chunk.length
  }
  return true
}

export function readBody<M>(payload: Readable, opts: ReadBodyOptions<M>): Promise<Buffer | CacheHit<M>> {
  return new Promise((resolve, reject) => {
    const declared = opts.contentLength === undefined ? Number.NaN : Number(opts.contentLength)
    if (declared > opts.limit) {
      reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      return
    }
    const cache = opts.cache && Number.isSafeInteger(declared) && declared > 0 ? opts.cache : undefined
    let candidates: readonly CachedAnswer<M>[] = cache ? cache.store.candidates(cache.route, declared) : []
    let chunks: Buffer[] = []
    let received = 0
    /** The bucket as last looked at: a change means answers stored since, worth a look. */
    let seen = { bucket: candidates, size: candidates.length }

    /**
     * While collecting: adopt answers stored since this body started (50 identical resyncs
     * arriving at once all start before the first is answered) whose start matches the bytes
     * collected so far, and drop those bytes.
     */
    const adopt = () => {
      if (!cache) return
      const bucket = cache.store.candidates(cache.route, declared)
      if (bucket === seen.bucket && bucket.length === seen.size) return
      seen = { bucket, size: bucket.length }
      const matching = bucket.filter((c) => startsWith(c.body, chunks, received))
      if (matching.length === 0) return
      candidates = matching
      chunks = []
    }

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
        adopt()
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
