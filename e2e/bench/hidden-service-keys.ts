/**
 * By-hand timing of the hidden-service keys on a resync (not a test: timings depend on the
 * machine). A 100-replica MoneroNodeSet with tor and i2p, both publishing p2p and the
 * restricted RPC, whose keys Secret is already among the observed children: what every
 * resync of such a set costs. Also timed: the same set without tor and i2p (the difference
 * is what the keys cost), its keys Secret as written before the checked-keys record existed,
 * and a set whose keys all come from the user's Secret (keysSecretName). Results and the
 * design they led to: the comment above readCheckedKeys in hooks/nodes/anonymity-keys.ts.
 *
 * Each set gets its own key seed, and the requests are rendered in a worker thread, so no
 * process-wide state of this thread has seen their keys before the first timed pass.
 *
 *   npx tsc -p tsconfig.json && node dist/e2e/bench/hidden-service-keys.js [replicas] [sets]
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { HANDLERS, handleSync, isHookError } from '../../hooks/handlers.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { CHECKED_KEYS_ANNOTATION } from '../../hooks/nodes/anonymity-keys.js'
import { syncRequest } from '../../hooks/testing/requests.js'
import { asObserved, BENCH_CONFIG, BENCH_NOW, caseParent, type CaseSpec } from './cases.js'

const handler = HANDLERS.find((h) => h.kind === 'MoneroNodeSet')
if (!handler) throw new Error('no MoneroNodeSet handler')
const both = { enabled: true, publish: { p2p: true, restrictedRpc: true } }

const USER_SECRET = 'my-keys'
const users = { ...both, keysSecretName: USER_SECRET }

function spec(replicas: number, anonymous: boolean, user = false): CaseSpec {
  return {
    name: 'hidden-service keys',
    kind: 'MoneroNodeSet',
    example: 'moneronodeset.yaml',
    replicas,
    specPatch: anonymous ? (user ? { tor: users, i2p: users } : { tor: both, i2p: both }) : {},
  }
}

const seedOf = (set: number) => new TextEncoder().encode(`hidden-service keys timing seed #${set}, not a secret`)

/**
 * The resync request of one set (JSON), as Metacontroller sends it once the children exist.
 * `unrecorded`: the keys Secret as a version without the checked-keys record wrote it;
 * `user`: every key comes from the user's Secret (keysSecretName), sent in `related`.
 */
function renderResync(replicas: number, anonymous: boolean, set: number, variant: 'recorded' | 'unrecorded' | 'user' = 'recorded'): string {
  const ctx = { config: { ...BENCH_CONFIG, keySeed: seedOf(set) }, now: BENCH_NOW }
  const declared = [...(handler?.childResources ?? [])]
  const sync = (parent: KubeObject, observed: KubeObject[], related: Record<string, unknown>) => {
    const body = { ...syncRequest(parent, observed, 'v2', declared), related }
    const r = handleSync(handler as (typeof HANDLERS)[number], body, ctx)
    if (isHookError(r)) throw new Error(r.message)
    return { body, r }
  }
  let parent = caseParent(spec(replicas, anonymous))
  let related: Record<string, unknown> = {}
  let first = sync(parent, [], related).r
  if (variant === 'user') {
    const ours = first.children.find((c) => c.kind === 'Secret') as KubeObject
    const mine = { apiVersion: 'v1', kind: 'Secret', metadata: { name: USER_SECRET, namespace: parent.metadata.namespace }, type: 'Opaque', data: ours.data }
    related = { 'Secret.v1': { [`${parent.metadata.namespace}/${USER_SECRET}`]: mine } }
    parent = caseParent(spec(replicas, anonymous, true))
    first = sync(parent, [], related).r
  }
  const observed = first.children.map((c, i) => asObserved(c, parent, i))
  const secret = observed.find((c) => c.kind === 'Secret') as KubeObject | undefined
  if (anonymous && !secret) throw new Error('no keys Secret among the children')
  if (variant === 'unrecorded') delete secret?.metadata.annotations?.[CHECKED_KEYS_ANNOTATION]
  return JSON.stringify(sync({ ...parent, status: first.status }, observed, related).body)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

function timeResyncs(bodies: readonly string[], set: (i: number) => number): number[] {
  const out: number[] = []
  bodies.forEach((body, i) => {
    const request = JSON.parse(body) as unknown
    const ctx = { config: { ...BENCH_CONFIG, keySeed: seedOf(set(i)) }, now: BENCH_NOW }
    const start = process.hrtime.bigint()
    const r = handleSync(handler as (typeof HANDLERS)[number], request, ctx)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (isHookError(r)) throw new Error(r.message)
    out.push(ms)
  })
  return out
}

interface Job {
  replicas: number
  sets: number
}

if (!isMainThread) {
  const { replicas, sets } = workerData as Job
  const anonymous = Array.from({ length: sets }, (_, set) => renderResync(replicas, true, set))
  const unrecorded = Array.from({ length: sets }, (_, set) => renderResync(replicas, true, sets + set, 'unrecorded'))
  const user = Array.from({ length: sets }, (_, set) => renderResync(replicas, true, 2 * sets + set, 'user'))
  parentPort?.postMessage({ anonymous, unrecorded, user, plain: renderResync(replicas, false, 0) })
} else {
  const replicas = Number(process.argv[2] ?? 100)
  const sets = Number(process.argv[3] ?? 10)
  const rendered = await new Promise<{ anonymous: string[]; unrecorded: string[]; user: string[]; plain: string }>((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { replicas, sets } satisfies Job })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const fmt = (xs: number[]) => `median ${median(xs).toFixed(2)} ms, min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)} (n=${xs.length})`
  // Warm the code paths (JIT) on the set without keys, which holds no key material.
  for (let i = 0; i < 20; i++) timeResyncs([rendered.plain], () => 0)
  const plain = timeResyncs(Array(20).fill(rendered.plain), () => 0)
  const firstPass = timeResyncs(rendered.anonymous, (i) => i)
  const later: number[] = []
  for (let pass = 0; pass < 5; pass++) later.push(...timeResyncs(rendered.anonymous, (i) => i))
  const unrecorded = timeResyncs(rendered.unrecorded, (i) => sets + i)
  const user = timeResyncs(rendered.user, (i) => 2 * sets + i)
  console.log(`MoneroNodeSet(${replicas}) resync, observed children present`)
  console.log(`  without tor/i2p:                      ${fmt(plain)}`)
  console.log(`  tor+i2p (p2p+rpc), first resync/set:  ${fmt(firstPass)}`)
  console.log(`  tor+i2p (p2p+rpc), later resyncs:     ${fmt(later)}`)
  console.log(`  tor+i2p, Secret without checked-keys: ${fmt(unrecorded)}`)
  console.log(`  tor+i2p, all keys from keysSecretName: ${fmt(user)}`)
}
