/**
 * `npm run bench`: throughput, latency, response size and memory of the sync hooks, measured
 * against an empty route on the same server in the same run fed the same bodies (HTTP + JSON parsing alone),
 * plus start-up time to /readyz and a sync-only microbenchmark of MoneroNetwork's growth.
 *
 * Environment: BENCH_DURATION (seconds per case, default 5), BENCH_CONNECTIONS (default "5,50"),
 * BENCH_ROUNDS (alternating empty-route/NodeSet(3) first-sync rounds at c=5 for the headline ratio, default 3),
 * BENCH_STRICT=1 (exit 1 when a target fails; off by default because shared machines are noisy).
 * Results: a table on stdout and bench-results/bench.json.
 */
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { handleSync, isHookError } from '../../hooks/handlers.js'
import { repoPath } from '../../hooks/paths.js'
import { BENCH_CONFIG, BENCH_NOW, CASES, prepareCase, type CaseSpec, type PreparedCase } from './cases.js'
import { forceGc, LoadChild, median, round, rssMb, sampleRss, startServer } from './harness.js'
import type { LoadSummary } from './summary.js'

const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '5,50').split(',').map(Number)
const STRICT = process.env.BENCH_STRICT === '1'
const HEADLINE_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const round3 = (n: number) => round(n, 3)
/** MoneroNetwork(1000)'s response size before this design (e2e/bench/RESULTS.md, 2026-12-01). */
const RESPONSE_BYTES_BEFORE = 566_680

interface LoadRow {
  case: string
  connections: number
  requestsPerSecond: number
  ratioToEmpty: number | null
  latencyP50Ms: number
  latencyP99Ms: number
  responseBytes: number | null
  bytesPerResponseOnWire: number
  non2xx: number
  errors: number
  peakRssMb: number
}

interface SyncOnlyRow {
  case: string
  replicas: number
  samples: number
  requestBytes: number
  responseBytes: number
  children: number
  medianParseMs: number
  medianSyncMs: number
  medianSerializeMs: number
  /** parse + handleSync + JSON.stringify: the server's own work for one request. */
  medianTotalMs: number
}

interface Target {
  target: string
  value: string
  result: 'PASS' | 'FAIL' | 'SKIP' | 'INFO'
}

// ---------------------------------------------------------------- start-up time

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

function readyzStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
  })
}

/** Milliseconds from spawning `node dist/hooks/main.js` to its first /readyz 200. */
async function measureStartup(): Promise<number> {
  const port = await freePort()
  const main = fileURLToPath(new URL('../../hooks/main.js', import.meta.url))
  const started = performance.now()
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', KEY_SEED: 'x'.repeat(32) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`hook server exited with ${child.exitCode} before it was ready`)
      if ((await readyzStatus(port)) === 200) return performance.now() - started
      if (performance.now() - started > 30_000) throw new Error('hook server not ready within 30 s')
      await new Promise((r) => setTimeout(r, 5))
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
}

/** Milliseconds for `node -e 0`: the floor under the start-up time. */
function nodeBaseline(): number {
  const t = performance.now()
  execFileSync(process.execPath, ['-e', '0'])
  return performance.now() - t
}

// ---------------------------------------------------------------- sync only

function syncOnly(spec: CaseSpec): SyncOnlyRow | { case: string; skipped: string } {
  const prepared = prepareCase(spec)
  if (!prepared.available) return { case: spec.name, skipped: prepared.reason }
  const ctx = { config: BENCH_CONFIG, now: BENCH_NOW }
  const parse: number[] = []
  const sync: number[] = []
  const serialize: number[] = []
  const total: number[] = []
  let bytes = 0
  let children = 0
  const deadline = performance.now() + 4000
  while (sync.length < 300 && (sync.length < 15 || performance.now() < deadline)) {
    const t0 = performance.now()
    const body = JSON.parse(prepared.body) as unknown
    const t1 = performance.now()
    const result = handleSync(prepared.handler, body, ctx)
    const t2 = performance.now()
    const text = JSON.stringify(result)
    const t3 = performance.now()
    if (isHookError(result)) throw new Error(`${spec.name}: ${result.message}`)
    parse.push(t1 - t0)
    sync.push(t2 - t1)
    serialize.push(t3 - t2)
    total.push(t3 - t0)
    bytes = Buffer.byteLength(text)
    children = result.children.length
  }
  return {
    case: spec.name,
    replicas: spec.replicas,
    samples: sync.length,
    requestBytes: Buffer.byteLength(prepared.body),
    responseBytes: bytes,
    children,
    medianParseMs: round(median(parse), 3),
    medianSyncMs: round(median(sync), 3),
    medianSerializeMs: round(median(serialize), 3),
    medianTotalMs: round(median(total), 3),
  }
}

// ---------------------------------------------------------------- load

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return ''
  const keys = Object.keys(rows[0] as object)
  const cells = rows.map((r) => keys.map((k) => (r[k] === null || r[k] === undefined ? '-' : String(r[k]))))
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: string[]) => c.map((v, i) => v.padStart(widths[i] as number)).join('  ')
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

function machine() {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown'
  let nproc = cpus().length
  try {
    nproc = Number(execFileSync('nproc').toString().trim())
  } catch {
    /* cpus() it is */
  }
  return { nproc, cpu: model, node: process.version, platform: `${process.platform} ${process.arch}` }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const info = machine()
  console.log(`monero-operator bench: ${info.nproc} cores, ${info.cpu}, node ${info.node}; ${DURATION}s per case, connections ${CONNECTIONS.join('/')}`)

  // 1. start-up, before this process warms anything up (the child is a separate process)
  const baseline = median([nodeBaseline(), nodeBaseline(), nodeBaseline()])
  const startups = [await measureStartup(), await measureStartup(), await measureStartup()]
  const startup = { readyzMs: round(median(startups)), runsMs: startups.map((s) => round(s)), nodeBaselineMs: round(baseline) }
  console.log(`\nstart-up to /readyz 200: median ${startup.readyzMs} ms (runs ${startup.runsMs.join(', ')}; node -e 0 takes ${startup.nodeBaselineMs} ms)`)

  // 2. load (first, in a process that has only prepared the request bodies). Every request is
  // a new object (a fresh parent resourceVersion), and every case runs side by side with the
  // empty route fed the same bodies: the ratio is what the hook costs over HTTP + JSON parsing.
  const prepared: PreparedCase[] = CASES.map((c) => prepareCase(c))
  const { app, base } = await startServer()
  const load = new LoadChild()
  const rows: LoadRow[] = []
  const rssBefore = rssMb()
  let peakRss = rssBefore
  const peakAt = new Map<number, { mb: number; case: string }>()
  // Each run starts from a collected heap (with --expose-gc, as `npm run bench` runs), so a
  // run's peak is its own and not the garbage of the run before (V8 collects an idle server too).
  const runOne = async (name: string, url: string, body: string, connections: number, duration: number): Promise<{ s: LoadSummary; peak: number }> => {
    forceGc()
    const stop = sampleRss()
    const s = await load.run({ url: base + url, method: 'POST', body, connections, duration })
    const peak = stop()
    peakRss = Math.max(peakRss, peak)
    if (peak > (peakAt.get(connections)?.mb ?? 0)) peakAt.set(connections, { mb: peak, case: name })
    if (s.error) throw new Error(`load generator: ${s.error}`)
    return { s, peak }
  }
  // Largest responses last, so that the memory they take is not charged to the small cases
  // (RSS rarely shrinks once the heap has grown).
  const available = prepared.filter((p): p is Extract<PreparedCase, { available: true }> => p.available).sort((x, y) => x.responseBytes - y.responseBytes)
  const BIG = 200_000
  // warm-up: JIT and the connection pool, not recorded (the big cases warm up in their own run)
  for (const p of available) {
    if (p.responseBytes >= BIG) continue
    await runOne('warm-up', '/bench/empty', p.body, 5, 1)
    await runOne('warm-up', p.url, p.body, 5, 1)
  }
  peakAt.clear()

  const row = (name: string, connections: number, s: LoadSummary, peak: number, responseBytes: number | null, ratio: number | null): LoadRow => ({
    case: name,
    connections,
    requestsPerSecond: Math.round(s.requestsPerSecond),
    ratioToEmpty: ratio === null ? null : round(ratio, 3),
    latencyP50Ms: s.latencyP50Ms,
    latencyP99Ms: s.latencyP99Ms,
    responseBytes,
    bytesPerResponseOnWire: s.bytesPerResponse,
    non2xx: s.non2xx,
    errors: s.errors,
    peakRssMb: round(peak),
  })
  // The headline target first (before the big cases grow the heap), measured side by side: the empty route and MoneroNodeSet(3)'s first
  // sync alternating at c=5 (Metacontroller's workers) for HEADLINE_ROUNDS rounds, both fed the
  // same bodies; the ratio is the median of the rounds' ratios, so a burst of noise on a shared
  // machine moves one round, not the verdict.
  const firstSync = available.find((p) => p.spec.name === 'MoneroNodeSet(3), first sync')
  const headline: { round: number; emptyRps: number; hookRps: number; ratio: number }[] = []
  if (firstSync) {
    for (let round = 1; round <= HEADLINE_ROUNDS; round++) {
      const empty = await runOne('headline empty', '/bench/empty', firstSync.body, 5, DURATION)
      const hook = await runOne('headline first sync', firstSync.url, firstSync.body, 5, DURATION)
      headline.push({
        round,
        emptyRps: Math.round(empty.s.requestsPerSecond),
        hookRps: Math.round(hook.s.requestsPerSecond),
        ratio: round3(hook.s.requestsPerSecond / empty.s.requestsPerSecond),
      })
    }
  }
  for (const p of available) {
    for (const c of CONNECTIONS) {
      const empty = await runOne(`empty route, ${p.spec.name} bodies`, '/bench/empty', p.body, c, DURATION)
      const hook = await runOne(p.spec.name, p.url, p.body, c, DURATION)
      rows.push(row(`empty route, ${p.spec.name} bodies`, c, empty.s, empty.peak, 2, null))
      rows.push(row(p.spec.name, c, hook.s, hook.peak, p.responseBytes, hook.s.requestsPerSecond / empty.s.requestsPerSecond))
    }
  }
  load.close()
  const rssAfter = rssMb()
  await app.close()

  console.log(
    `\nload (autocannon in a child process, ${DURATION}s per run, every request a new object; ratio = req/s over the empty route fed the same bodies, run just before at the same concurrency):`,
  )
  console.log(table(rows as unknown as Record<string, unknown>[]))
  const skipped = prepared.filter((p): p is Extract<PreparedCase, { available: false }> => !p.available)
  for (const p of skipped) console.log(`${p.spec.name}: skipped: not available (${p.reason})`)
  console.log(`\nRSS of the server process: before ${round(rssBefore)} MiB, peak under load ${round(peakRss)} MiB, after ${round(rssAfter)} MiB`)

  // 3. sync only (after the load runs, so that their RSS is not inflated by this part)
  const networkSpec = CASES.find((c) => c.kind === 'MoneroNetwork') as CaseSpec
  const microSpecs: CaseSpec[] = [
    ...[10, 100, 1000].map((n) => ({ ...networkSpec, name: `MoneroNetwork(${n})`, replicas: n })),
    ...CASES.filter((c) => c.kind !== 'MoneroNetwork'),
  ]
  const micro = microSpecs.map(syncOnly)
  const microRows = micro.filter((m): m is SyncOnlyRow => !('skipped' in m))
  console.log('\nsync only (JSON.parse of the request, handleSync, JSON.stringify of the response; medians):')
  console.log(table(microRows as unknown as Record<string, unknown>[]))
  for (const m of micro) if ('skipped' in m) console.log(`${m.case}: skipped: not available (${m.skipped})`)

  // 4. targets
  const targets: Target[] = []
  if (headline.length > 0) {
    console.log(`\nMoneroNodeSet(3) first sync vs the empty route fed the same bodies at c=5, alternating (${DURATION}s each):`)
    console.log(table(headline as unknown as Record<string, unknown>[]))
    const ratio = median(headline.map((h) => h.ratio))
    targets.push({
      target: `MoneroNodeSet(3) first sync at c=5 >= 30% of the empty route's req/s (median of ${headline.length} alternating rounds)`,
      value: `${round(ratio * 100)}% (rounds ${headline.map((h) => `${round(h.ratio * 100)}%`).join(', ')})`,
      result: ratio >= 0.3 ? 'PASS' : 'FAIL',
    })
  } else {
    targets.push({ target: 'MoneroNodeSet(3) first sync at c=5 >= 30% of the empty route', value: 'not available', result: 'SKIP' })
  }
  const n1000 = microRows.find((m) => m.case === 'MoneroNetwork(1000)')
  const n100 = microRows.find((m) => m.case === 'MoneroNetwork(100)')
  if (n1000 && n100) {
    targets.push({
      target: 'MoneroNetwork(1000) median sync (parse + handleSync + serialize) < 15 ms',
      value: `${n1000.medianTotalMs} ms (parse ${n1000.medianParseMs}, handleSync ${n1000.medianSyncMs}, serialize ${n1000.medianSerializeMs})`,
      result: n1000.medianTotalMs < 15 ? 'PASS' : 'FAIL',
    })
    targets.push({
      target: `MoneroNetwork(1000) response no larger than before (${RESPONSE_BYTES_BEFORE} bytes)`,
      value: `${n1000.responseBytes} bytes`,
      result: n1000.responseBytes <= RESPONSE_BYTES_BEFORE ? 'PASS' : 'FAIL',
    })
    const timeRatio = n1000.medianTotalMs / n100.medianTotalMs
    const bytesRatio = n1000.responseBytes / n100.responseBytes
    targets.push({
      target: 'MoneroNetwork growth linear in replicas (1000 vs 100: ~10x, quadratic would be ~100x; pass <= 20x)',
      value: `time x${round(timeRatio, 2)}, bytes x${round(bytesRatio, 2)}`,
      result: timeRatio <= 20 && bytesRatio <= 20 ? 'PASS' : 'FAIL',
    })
  } else {
    targets.push({ target: 'MoneroNetwork(1000) median sync < 15 ms', value: 'not available', result: 'SKIP' })
  }
  const peak5 = peakAt.get(5)
  targets.push({
    target: 'peak RSS at c=5 across all cases < 120 MiB',
    value: peak5
      ? `${round(peak5.mb)} MiB (during ${peak5.case}); at c=50: ${round(peakAt.get(50)?.mb ?? 0)} MiB (during ${peakAt.get(50)?.case ?? '-'})`
      : 'c=5 not run',
    result: peak5 ? (peak5.mb < 120 ? 'PASS' : 'FAIL') : 'SKIP',
  })
  targets.push({
    target: 'start-up to /readyz < 500 ms',
    value: `${startup.readyzMs} ms (node -e 0: ${startup.nodeBaselineMs} ms)`,
    result: startup.readyzMs < 500 ? 'PASS' : 'FAIL',
  })
  const bad = rows.filter((r) => r.non2xx > 0 || r.errors > 0)
  targets.push({
    target: 'no non-2xx answers or errors under load',
    value: bad.length ? bad.map((r) => `${r.case}@${r.connections}: ${r.non2xx} non-2xx, ${r.errors} errors`).join('; ') : 'none',
    result: bad.length ? 'FAIL' : 'PASS',
  })
  console.log('\ntargets:')
  for (const t of targets) console.log(`  ${t.result.padEnd(4)}  ${t.target}: ${t.value}`)

  mkdirSync(repoPath('bench-results'), { recursive: true })
  const out = repoPath('bench-results', 'bench.json')
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt,
        machine: info,
        durationSecondsPerRun: DURATION,
        connections: CONNECTIONS,
        startup,
        syncOnly: micro,
        load: rows,
        headline,
        skipped: skipped.map((p) => ({ case: p.spec.name, reason: `skipped: not available (${p.reason})` })),
        rssMb: {
          before: round(rssBefore),
          peakUnderLoad: round(peakRss),
          peakByConnections: Object.fromEntries([...peakAt].map(([c, p]) => [c, { mb: round(p.mb), case: p.case }])),
          after: round(rssAfter),
        },
        targets,
      },
      null,
      2,
    )}\n`,
  )
  console.log(`\nwrote ${out}`)
  const failed = targets.filter((t) => t.result === 'FAIL')
  if (failed.length > 0) {
    console.log(`${failed.length} target(s) failed${STRICT ? '' : ' (reported only; BENCH_STRICT=1 makes this fatal)'}`)
    if (STRICT) process.exitCode = 1
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
