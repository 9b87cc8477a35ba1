/**
 * ResponseCache: the sync answers to recent request bodies, byte for byte.
 *
 * A sync answer is a pure function of the request body and the server's configuration (the
 * builders read no clock, environment or randomness; the one clock reading, the
 * lastTransitionTime of a condition that flips, is taken when the body is first seen). And
 * Metacontroller sends the same bytes again and again: every resync (60 s here) and every
 * informer cache flush re-sends an unchanged parent with its unchanged children. So the second
 * and later answers to the same bytes are the stored ones, found without parsing the body.
 *
 * Entries are keyed by route and body length and compared with the stored body in full
 * (a memcmp, not a hash that could collide); at most BUCKET_LIMIT bodies share a length, so a
 * lookup costs a few comparisons whatever is sent. Least recently used entries go first once the
 * stored bodies and answers pass `maxBytes`; an entry bigger than a quarter of that is not kept.
 */

/** A stored answer: the request bytes it answers, the answer, and the fields of its log line. */
export interface CachedAnswer<M> {
  readonly body: Buffer
  readonly response: Buffer
  readonly meta: M
}

interface Entry<M> extends CachedAnswer<M> {
  readonly key: string
  readonly bytes: number
}

/** Bookkeeping per entry on top of its two buffers (map slots, the entry object, the key). */
const ENTRY_OVERHEAD = 256

/** Most entries kept for one route and body length; the oldest of them makes room. */
export const BUCKET_LIMIT = 8

export class ResponseCache<M> {
  /** Same route and body length: the candidates for a full comparison. */
  private readonly buckets = new Map<string, Entry<M>[]>()
  /** Every entry, least recently used first (a Map keeps insertion order). */
  private readonly order = new Map<Entry<M>, true>()
  private storedBytes = 0

  constructor(readonly maxBytes: number) {}

  /** Entries held now. */
  get size(): number {
    return this.order.size
  }

  /** Bytes held now (bodies, answers and a fixed overhead per entry). */
  get bytes(): number {
    return this.storedBytes
  }

  get(route: string, body: Buffer): CachedAnswer<M> | undefined {
    const entry = this.candidates(route, body.length).find((e) => e.body.equals(body))
    if (entry) this.touch(entry)
    return entry
  }

  /**
   * The stored answers to bodies of this route and length (at most BUCKET_LIMIT), for a caller
   * that compares a body while it arrives (hooks/body.ts) and calls touch() on a match.
   */
  candidates(route: string, length: number): readonly CachedAnswer<M>[] {
    if (this.maxBytes <= 0) return []
    return this.buckets.get(bucketKey(route, length)) ?? []
  }

  /** Marks an answer as just used (it leaves last). A no-op once it has been evicted. */
  touch(answer: CachedAnswer<M>): void {
    const entry = answer as Entry<M>
    if (!this.order.has(entry)) return
    this.order.delete(entry)
    this.order.set(entry, true)
  }

  set(route: string, body: Buffer, response: Buffer, meta: M): void {
    const bytes = body.length + response.length + ENTRY_OVERHEAD
    if (bytes > this.maxBytes / 4) return
    const key = bucketKey(route, body.length)
    let bucket = this.buckets.get(key)
    if (bucket?.some((e) => e.body.equals(body))) return
    if (bucket && bucket.length >= BUCKET_LIMIT) this.evict(bucket[0] as Entry<M>)
    bucket = this.buckets.get(key)
    if (!bucket) {
      bucket = []
      this.buckets.set(key, bucket)
    }
    const entry: Entry<M> = { key, body: own(body), response: own(response), meta, bytes }
    bucket.push(entry)
    this.order.set(entry, true)
    this.storedBytes += bytes
    while (this.storedBytes > this.maxBytes) {
      const oldest = this.order.keys().next().value as Entry<M>
      this.evict(oldest)
    }
  }

  clear(): void {
    this.buckets.clear()
    this.order.clear()
    this.storedBytes = 0
  }

  private evict(entry: Entry<M>): void {
    this.order.delete(entry)
    this.storedBytes -= entry.bytes
    const bucket = this.buckets.get(entry.key) as Entry<M>[]
    const rest = bucket.filter((e) => e !== entry)
    if (rest.length === 0) this.buckets.delete(entry.key)
    else this.buckets.set(entry.key, rest)
  }
}

/**
 * A copy outside Node's shared 8 KiB allocation pool when the buffer is small enough to sit in
 * it: a kept pooled slice would keep the whole slab alive, uncounted.
 */
function own(buf: Buffer): Buffer {
  if (buf.length >= 4096 && buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf
  const copy = Buffer.allocUnsafeSlow(buf.length)
  buf.copy(copy)
  return copy
}

function bucketKey(route: string, length: number): string {
  return `${route}\u0000${length}`
}
