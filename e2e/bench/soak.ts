/**
 * `npm run soak`: the leak check. 100 000 sync requests mixed across the served kinds (and a
 * share of invalid ones, so the error path is soaked too) against the in-process hook server on
 * loopback; RSS after a forced GC is taken after the first 10 000 and after all of them, and
 * the run passes when it grew by at most 10%.
 *
 * Environment: SOAK_REQUESTS (100000), SOAK_CHECKPOINT (10000), SOAK_CONNECTIONS (5),
 * SOAK_MAX_SECONDS (1200, a hard bound), SOAK_STRICT=1 (exit 1 on FAIL).
 * Not part of `npm test`. Results also go to bench-results/soak.json.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { repoPath } from '../../hooks/paths.js'
import { asStored, loadExample, syncRequest } from '../../hooks/testing/requests.js'
import { CASES, prepareCase, type PreparedCase } from './cases.js'
import { forceGc, LoadChild, MB, round, rssMb, startServer } from './harness.js'

// A forced GC needs --expose-gc: re-run ourselves with it when it is missing.
if (!(globalThis as { gc?: unknown }).gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 100_000)
const CHECKPOINT = Number(process.env.SOAK_CHECKPOINT ?? 10_000)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 5)
const MAX_SECONDS = Number(process.env.SOAK_MAX_SECONDS ?? 1200)
/** Requests per round over the mix (one autocannon run per case and round). */
const CHUNK = 10_000

interface Mix {
  readonly name: string
  readonly url: string
  readonly body: string
  /** Share of the requests. */
  readonly weight: number
}

function mixes(): Mix[] {
  const out: Mix[] = []
  // the small and medium cases (a 1000-replica network is the benchmark's business, not the leak check's)
  for (const spec of CASES.filter((c) => c.replicas <= 100)) {
    const p: PreparedCase = prepareCase(spec)
    if (p.available) out.push({ name: spec.name, url: p.url, body: p.body, weight: spec.kind === 'MoneroNetwork' ? 2 : 3 })
    else console.log(`${spec.name}: skipped: not available (${p.reason})`)
  }
  // invalid requests: the 4xx path must not leak either
  const bad = asStored(loadExample('moneronodeset.yaml'))
  // a refused spec is a 200 with Synced=False; with a child that has no last-applied annotation, a 422
  out.push({
    name: 'refused MoneroNodeSet (200, Synced=False)',
    url: '/hooks/moneronodeset/sync',
    body: JSON.stringify(syncRequest({ ...bad, spec: { replicas: 'three' } })),
    weight: 1,
  })
  const unkeepable = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nodes-monerod', namespace: 'default' } }
  out.push({
    name: 'invalid MoneroNodeSet (422)',
    url: '/hooks/moneronodeset/sync',
    body: JSON.stringify(syncRequest({ ...bad, spec: { replicas: 'three' } }, [unkeepable])),
    weight: 1,
  })
  out.push({ name: 'malformed JSON (400)', url: '/hooks/moneronodeset/sync', body: '{"parent": ', weight: 1 })
  return out
}

async function main(): Promise<void> {
  const mix = mixes()
  const weights = mix.reduce((a, m) => a + m.weight, 0)
  const { app, base } = await startServer()
  const load = new LoadChild()
  const deadline = Date.now() + MAX_SECONDS * 1000
  const started = Date.now()
  let sent = 0
  let non2xxUnexpected = 0
  let errors = 0
  const perCase = new Map<string, number>()
  const samples: { requests: number; rssMb: number; heapUsedMb: number; seconds: number }[] = []
  const sample = () => {
    forceGc()
    const m = process.memoryUsage()
    const s = { requests: sent, rssMb: round(m.rss / MB), heapUsedMb: round(m.heapUsed / MB), seconds: round((Date.now() - started) / 1000) }
    samples.push(s)
    console.log(`after ${s.requests} requests (${s.seconds} s): RSS ${s.rssMb} MiB, heap used ${s.heapUsedMb} MiB`)
  }
  console.log(`soak: ${TOTAL} requests, c=${CONNECTIONS}, mix ${mix.map((m) => `${m.name} ${round((100 * m.weight) / weights)}%`).join(', ')}`)
  console.log(`start: RSS ${round(rssMb())} MiB`)
  let timedOut = false
  while (sent < TOTAL) {
    const target = sent < CHECKPOINT ? CHECKPOINT : TOTAL
    for (const m of mix) {
      if (sent >= target) break
      if (Date.now() > deadline) {
        timedOut = true
        break
      }
      const amount = Math.min(Math.max(CONNECTIONS, Math.round((CHUNK * m.weight) / weights)), target - sent)
      const s = await load.run({ url: base + m.url, method: 'POST', body: m.body, connections: CONNECTIONS, duration: 0, amount })
      if (s.error) throw new Error(`load generator: ${s.error}`)
      const expectOk = !/\((4\d\d)\)$/.test(m.name)
      if (expectOk) non2xxUnexpected += s.non2xx
      else non2xxUnexpected += s.ok
      errors += s.errors
      sent += s.requests
      perCase.set(m.name, (perCase.get(m.name) ?? 0) + s.requests)
    }
    if (timedOut) break
    if (samples.length === 0 && sent >= CHECKPOINT) sample()
  }
  if (samples[samples.length - 1]?.requests !== sent) sample()
  load.close()
  await app.close()

  const first = samples[0]
  const last = samples[samples.length - 1]
  const growth = first && last ? last.rssMb / first.rssMb - 1 : 0
  const pass = !timedOut && sent >= TOTAL && growth <= 0.1 && non2xxUnexpected === 0 && errors === 0
  console.log(`requests per case: ${[...perCase].map(([k, v]) => `${k} ${v}`).join(', ')}`)
  console.log(`unexpected statuses ${non2xxUnexpected}, connection errors ${errors}${timedOut ? `, stopped at the ${MAX_SECONDS} s bound` : ''}`)
  console.log(
    `${pass ? 'PASS' : 'FAIL'}  RSS after ${last?.requests} vs after ${first?.requests} requests: ${first?.rssMb} -> ${last?.rssMb} MiB (${round(growth * 100)}%, limit 10%); heap used ${first?.heapUsedMb} -> ${last?.heapUsedMb} MiB`,
  )
  mkdirSync(repoPath('bench-results'), { recursive: true })
  writeFileSync(
    repoPath('bench-results', 'soak.json'),
    `${JSON.stringify({ total: sent, connections: CONNECTIONS, mix: mix.map((m) => ({ name: m.name, weight: m.weight })), perCase: Object.fromEntries(perCase), samples, growthPercent: round(growth * 100), unexpectedStatuses: non2xxUnexpected, errors, timedOut, result: pass ? 'PASS' : 'FAIL' }, null, 2)}\n`,
  )
  if (!pass && process.env.SOAK_STRICT === '1') process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
