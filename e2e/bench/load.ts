/**
 * The load generator, run as a child process of the benchmark and the soak (forked with an
 * IPC channel), so that autocannon's own CPU and memory are not counted against the hook
 * server it measures. One message in (a run), one message out (its summary).
 */
import autocannon from 'autocannon'
import { failedSummary, type LoadRequest, type LoadSummary } from './summary.js'

/** What to run: one autocannon run against a loopback URL. */

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
    (err: unknown) => process.send?.(failedSummary(msg.id, String(err))),
  )
})
