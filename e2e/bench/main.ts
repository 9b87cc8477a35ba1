/**
 * `npm run bench`: throughput, latency, response size and memory of the sync hooks, measured
 * against an empty route on the same server in the same run (the ceiling for this machine),
 * plus start-up time to /readyz and a sync-only microbenchmark of MoneroNetwork's growth.
 *
 * Environment: BENCH_DURATION (seconds per case, default 5), BENCH_CONNECTIONS (default "5,50"),
 * BENCH_ROUNDS (alternating empty-route/NodeSet(3) rounds for the headline ratio, default 3),
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
import type { LoadSummary } from './load.js'

const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '5,50').split(',').map(Number)
const STRICT = process.env.BENCH_STRICT === '1'
const HEADLINE_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const round3 = (n: number) => round(n, 3)

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

  // 2. load (first, in a process that has only prepared the request bodies)
  const prepared: PreparedCase[] = CASES.map((c) => prepareCase(c))
  const { app, base } = await startServer()
  const load = new LoadChild()
  const rows: LoadRow[] = []
  const rssBefore = rssMb()
  let peakRss = rssBefore
  // Each run starts from a collected heap (with --expose-gc, as `npm run bench` runs), so a
  // run's peak is its own and not the garbage of the run before (V8 collects an idle server too).
  const runOne = async (url: string, body: string, connections: number, duration: number): Promise<{ s: LoadSummary; peak: number }> => {
    forceGc()
    const stop = sampleRss()
    const s = await load.run({ url: base + url, method: 'POST', body, connections, duration })
    const peak = stop()
    peakRss = Math.max(peakRss, peak)
    if (s.error) throw new Error(`load generator: ${s.error}`)
    return { s, peak }
  }
  // Largest responses last, so that the memory they take is not charged to the small cases
  // (RSS rarely shrinks once the heap has grown).
  const available = prepared
    .filter((p): p is Extract<PreparedCase, { available: true }> => p.available)
    .sort((x, y) => x.responseBytes - y.responseBytes)
  const BIG = 200_000
  // warm-up: JIT and the connection pool, not recorded (the big cases warm up in their own run)
  await runOne('/bench/empty', '{}', 5, 1)
  for (const p of available) if (p.responseBytes < BIG) await runOne(p.url, p.body, 5, 1)

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
  const emptyBefore = new Map<number, { s: LoadSummary; peak: number }>()
  for (const c of CONNECTIONS) emptyBefore.set(c, await runOne('/bench/empty', '{}', c, DURATION))
  // the empty route fed the NodeSet(3) request: what HTTP + JSON parsing of that body cost alone
  const nodeSetBody = available.find((p) => p.spec.name === 'MoneroNodeSet(3)')?.body
  const emptyWithBody = new Map<number, { s: LoadSummary; peak: number }>()
  if (nodeSetBody) for (const c of CONNECTIONS) emptyWithBody.set(c, await runOne('/bench/empty', nodeSetBody, c, DURATION))
  // Every case is paired with an empty-route run just before it (DURATION/2 s) at the same
  // concurrency: its ratio is to that neighbour, so a slow minute on a shared machine moves
  // both sides of a ratio, not one.
  const caseRuns: { p: (typeof available)[number]; c: number; s: LoadSummary; peak: number; emptyRps: number }[] = []
  let peakSmall = peakRss
  for (const p of available) {
    for (const c of CONNECTIONS) {
      const neighbour = await runOne('/bench/empty', '{}', c, Math.max(1, DURATION / 2))
      caseRuns.push({ p, c, ...(await runOne(p.url, p.body, c, DURATION)), emptyRps: neighbour.s.requestsPerSecond })
    }
    if (p.responseBytes < BIG) peakSmall = peakRss
  }
  // The headline target, measured side by side: empty route and NodeSet(3) resync alternating
  // at c=50 for HEADLINE_ROUNDS rounds; the ratio is the median of the rounds' ratios, so a
  // burst of noise on this shared machine moves one round, not the verdict.
  const nodeSetCase = available.find((p) => p.spec.name === 'MoneroNodeSet(3)')
  const headline: { round: number; emptyRps: number; nodeSetRps: number; ratio: number }[] = []
  if (nodeSetCase && CONNECTIONS.includes(50)) {
    for (let round = 1; round <= HEADLINE_ROUNDS; round++) {
      const empty = await runOne('/bench/empty', '{}', 50, DURATION)
      const nodeSet = await runOne(nodeSetCase.url, nodeSetCase.body, 50, DURATION)
      headline.push({
        round,
        emptyRps: Math.round(empty.s.requestsPerSecond),
        nodeSetRps: Math.round(nodeSet.s.requestsPerSecond),
        ratio: round3(nodeSet.s.requestsPerSecond / empty.s.requestsPerSecond),
      })
    }
  }
  const emptyAfter = new Map<number, { s: LoadSummary; peak: number }>()
  for (const c of CONNECTIONS) emptyAfter.set(c, await runOne('/bench/empty', '{}', c, DURATION))
  for (const c of CONNECTIONS) {
    const before = emptyBefore.get(c) as { s: LoadSummary; peak: number }
    const after = emptyAfter.get(c) as { s: LoadSummary; peak: number }
    const ceiling = (before.s.requestsPerSecond + after.s.requestsPerSecond) / 2
    rows.push(row('empty route (before)', c, before.s, before.peak, 2, null))
    rows.push(row('empty route (after)', c, after.s, after.peak, 2, null))
    const withBody = emptyWithBody.get(c)
    if (withBody) rows.push(row('empty route, NodeSet(3) request body', c, withBody.s, withBody.peak, 2, withBody.s.requestsPerSecond / ceiling))
    for (const r of caseRuns.filter((r) => r.c === c)) rows.push(row(r.p.spec.name, c, r.s, r.peak, r.p.responseBytes, r.s.requestsPerSecond / r.emptyRps))
  }
  load.close()
  const rssAfter = rssMb()
  await app.close()

  console.log(`\nload (autocannon in a child process, ${DURATION}s per run; ratio = req/s over the empty route run just before the case at the same concurrency; for the empty route fed a body, over the mean of the empty runs before and after all cases):`)
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
  const nodeSet50 = rows.find((r) => r.case === 'MoneroNodeSet(3)' && r.connections === 50)
  if (headline.length > 0) {
    console.log(`\nMoneroNodeSet(3) resync vs the empty route at c=50, alternating (${DURATION}s each):`)
    console.log(table(headline as unknown as Record<string, unknown>[]))
    const ratio = median(headline.map((h) => h.ratio))
    targets.push({
      target: `MoneroNodeSet(3) req/s at c=50 >= 50% of the empty route (median of ${headline.length} alternating rounds)`,
      value: `${round(ratio * 100)}% (rounds ${headline.map((h) => `${round(h.ratio * 100)}%`).join(', ')})`,
      result: ratio >= 0.5 ? 'PASS' : 'FAIL',
    })
  } else {
    targets.push({ target: 'MoneroNodeSet(3) req/s at c=50 >= 50% of the empty route', value: 'not measured (c=50 not in BENCH_CONNECTIONS)', result: 'SKIP' })
  }
  const unique50 = rows.find((r) => r.case === 'MoneroNodeSet(3), every request new' && r.connections === 50)
  if (unique50?.ratioToEmpty != null) {
    targets.push({ target: '(context) MoneroNodeSet(3) at c=50, every body new (no cache hits), vs the empty route', value: `${round(unique50.ratioToEmpty * 100)}%`, result: 'INFO' })
  }
  // Context for the target above: the same hook on a first sync (no observed children in the
  // body) and against the empty route fed the same resync body.
  const first50 = rows.find((r) => r.case === 'MoneroNodeSet(3), first sync' && r.connections === 50)
  const sameBody50 = rows.find((r) => r.case === 'empty route, NodeSet(3) request body' && r.connections === 50)
  if (first50?.ratioToEmpty != null) {
    targets.push({ target: '(context) MoneroNodeSet(3) first sync at c=50 vs the empty route', value: `${round(first50.ratioToEmpty * 100)}%`, result: 'INFO' })
  }
  if (nodeSet50 && sameBody50?.requestsPerSecond) {
    targets.push({
      target: '(context) MoneroNodeSet(3) resync at c=50 vs the empty route fed the same body',
      value: `${round((nodeSet50.requestsPerSecond / sameBody50.requestsPerSecond) * 100)}%`,
      result: 'INFO',
    })
  }
  const n1000 = microRows.find((m) => m.case === 'MoneroNetwork(1000)')
  const n100 = microRows.find((m) => m.case === 'MoneroNetwork(100)')
  if (n1000 && n100) {
    targets.push({ target: 'MoneroNetwork(1000) median sync (parse+sync+serialize) < 50 ms', value: `${n1000.medianTotalMs} ms (handleSync alone ${n1000.medianSyncMs} ms)`, result: n1000.medianTotalMs < 50 ? 'PASS' : 'FAIL' })
    targets.push({ target: 'MoneroNetwork(1000) response < 1 MB', value: `${n1000.responseBytes} bytes`, result: n1000.responseBytes < 1_000_000 ? 'PASS' : 'FAIL' })
    const timeRatio = n1000.medianTotalMs / n100.medianTotalMs
    const bytesRatio = n1000.responseBytes / n100.responseBytes
    targets.push({
      target: 'MoneroNetwork growth linear in replicas (1000 vs 100: ~10x, quadratic would be ~100x; pass <= 20x)',
      value: `time x${round(timeRatio, 2)}, bytes x${round(bytesRatio, 2)}`,
      result: timeRatio <= 20 && bytesRatio <= 20 ? 'PASS' : 'FAIL',
    })
  } else {
    for (const t of ['MoneroNetwork(1000) median sync < 50 ms', 'MoneroNetwork(1000) response < 1 MB', 'MoneroNetwork growth linear in replicas']) {
      targets.push({ target: t, value: 'skipped: not available (MoneroNetwork is not served yet)', result: 'SKIP' })
    }
  }
  const worst = [...rows].sort((a, b) => b.peakRssMb - a.peakRssMb)[0]
  const peakOthers = peakSmall
  targets.push({
    target: 'RSS under load < 150 MiB',
    value: `peak ${round(peakRss)} MiB (during ${worst?.case} at c=${worst?.connections}); before the first run with a response over 200 kB ${round(peakOthers)} MiB`,
    result: peakRss < 150 ? 'PASS' : 'FAIL',
  })
  const bad = rows.filter((r) => r.non2xx > 0 || r.errors > 0)
  targets.push({ target: 'no non-2xx answers or errors under load', value: bad.length ? bad.map((r) => `${r.case}@${r.connections}: ${r.non2xx} non-2xx, ${r.errors} errors`).join('; ') : 'none', result: bad.length ? 'FAIL' : 'PASS' })
  console.log('\ntargets:')
  for (const t of targets) console.log(`  ${t.result.padEnd(4)}  ${t.target}: ${t.value}`)

  mkdirSync(repoPath('bench-results'), { recursive: true })
  const out = repoPath('bench-results', 'bench.json')
  writeFileSync(
    out,
    JSON.stringify(
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
        rssMb: { before: round(rssBefore), peakUnderLoad: round(peakRss), peakBeforeBigResponses: round(peakSmall), after: round(rssAfter) },
        targets,
      },
      null,
      2,
    ) + '\n',
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
