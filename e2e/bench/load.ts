/**
 * The load generator, run as a child process of the benchmark and the soak (forked with an
 * IPC channel), so that autocannon's own CPU and memory are not counted against the hook
 * server it measures. One message in (a run), one message out (its summary).
 */
import autocannon from 'autocannon'

/** What to run: one autocannon run against a loopback URL. */
export interface LoadRequest {
  readonly id: number
  readonly url: string
  readonly method: 'POST' | 'GET'
  readonly body?: string
  readonly connections: number
  /** Seconds; ignored when `amount` is set. */
  readonly duration: number
  /** Total requests instead of a duration. */
  readonly amount?: number
}

/** The numbers we keep from an autocannon result. */
export interface LoadSummary {
  readonly id: number
  readonly durationSeconds: number
  readonly requests: number
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly requestsPerSecond: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly latencyMaxMs: number
  /** Bytes received per response (headers included). */
  readonly bytesPerResponse: number
  readonly error?: string
}

async function run(req: LoadRequest): Promise<LoadSummary> {
  const result = await autocannon({
    url: req.url,
    method: req.method,
    connections: req.connections,
    pipelining: 1,
    ...(req.amount ? { amount: req.amount } : { duration: req.duration }),
    timeout: 30,
    headers: req.body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(req.body !== undefined ? { body: req.body } : {}),
    // a body holding '[<id>]' gets a fresh id in every request (cases.ts: unique)
    idReplacement: req.body?.includes('[<id>]') ?? false,
  })
  const completed = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx']
  return {
    id: req.id,
    durationSeconds: result.duration,
    requests: completed,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requestsPerSecond: result['2xx'] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    bytesPerResponse: completed > 0 ? Math.round(result.throughput.total / completed) : 0,
  }
}

process.on('message', (msg: LoadRequest | 'exit') => {
  if (msg === 'exit') {
    process.disconnect()
    return
  }
  run(msg).then(
    (summary) => process.send?.(summary),
    (err: unknown) =>
      process.send?.({
        id: msg.id,
        durationSeconds: 0,
        requests: 0,
        ok: 0,
        non2xx: 0,
        errors: 1,
        timeouts: 0,
        requestsPerSecond: 0,
        latencyP50Ms: 0,
        latencyP99Ms: 0,
        latencyMaxMs: 0,
        bytesPerResponse: 0,
        error: String(err),
      } satisfies LoadSummary),
  )
})
