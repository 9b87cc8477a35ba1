/**
 * The sync requests the benchmark and the soak send: each case renders its parent once with
 * no children, then sends the rendered children back as observed children (with the fields the
 * apiserver adds), as Metacontroller does on every sync after the first. Every request is a new
 * object: the parent's resourceVersion is replaced with a fresh id in each request.
 *
 * Kinds and features that the hook server does not serve yet are reported as unavailable
 * instead of failing, and picked up automatically once they land.
 */
import { existsSync } from 'node:fs'
import { DEFAULT_OPERATOR_IMAGE, type HookConfig } from '../../hooks/config.js'
import { HANDLERS, handleSync, isHookError, type KindHandler } from '../../hooks/handlers.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { repoPath } from '../../hooks/paths.js'
import { asStored, loadExample, syncRequest } from '../../hooks/testing/requests.js'

/** A fixed, obviously-not-secret seed so Tor/I2P cases can render (>= 32 bytes). */
export const BENCH_CONFIG: HookConfig = {
  operatorImage: DEFAULT_OPERATOR_IMAGE,
  keySeed: new TextEncoder().encode('monero-operator benchmark key seed, not a secret!'),
}

export const BENCH_NOW = '2026-11-26T12:00:00Z'

export interface CaseSpec {
  /** Label in tables, e.g. "MoneroNetwork(1000)". */
  readonly name: string
  readonly kind: string
  readonly example: string
  readonly replicas: number
  /** Extra spec fields merged over the example (features). */
  readonly specPatch?: Record<string, unknown>
  /** Feature name for the "not available" message. */
  readonly feature?: string
  /** Send the first sync of a new object (no observed children) instead of a resync. */
  readonly firstSync?: boolean
}

export const CASES: readonly CaseSpec[] = [
  { name: 'MoneroNodeSet(3), first sync', kind: 'MoneroNodeSet', example: 'moneronodeset.yaml', replicas: 3, firstSync: true },
  { name: 'MoneroNodeSet(3)', kind: 'MoneroNodeSet', example: 'moneronodeset.yaml', replicas: 3 },
  { name: 'MoneroNetwork(20)', kind: 'MoneroNetwork', example: 'moneronetwork-regtest.yaml', replicas: 20 },
  { name: 'MoneroNetwork(1000)', kind: 'MoneroNetwork', example: 'moneronetwork-regtest.yaml', replicas: 1000 },
  { name: 'MoneroMiningNodeSet(10)', kind: 'MoneroMiningNodeSet', example: 'monerominingnodeset.yaml', replicas: 10 },
  {
    name: 'MoneroNodeSet(3)+Tor+I2P',
    kind: 'MoneroNodeSet',
    example: 'moneronodeset.yaml',
    replicas: 3,
    specPatch: { tor: { enabled: true }, i2p: { enabled: true } },
    feature: 'Tor/I2P',
  },
]

/** A case ready to send, or the reason it cannot be run yet. */
export type PreparedCase =
  | {
      readonly spec: CaseSpec
      readonly available: true
      readonly handler: KindHandler
      readonly url: string
      readonly parent: KubeObject
      /** The request body as JSON text (parent + observed children). */
      readonly body: string
      readonly children: number
      /** Response size for this body, bytes of JSON. */
      readonly responseBytes: number
    }
  | { readonly spec: CaseSpec; readonly available: false; readonly reason: string }

/** The parent of a case: the example as stored by the apiserver, replicas and patch applied. */
export function caseParent(spec: CaseSpec): KubeObject {
  const example = loadExample(spec.example)
  const exampleSpec = (example.spec ?? {}) as Record<string, unknown>
  return asStored({ ...example, spec: { ...exampleSpec, replicas: spec.replicas, ...spec.specPatch } })
}

/** What the apiserver adds to an object we created, and a healthy status for workloads. */
export function asObserved(child: KubeObject, parent: KubeObject, index: number): KubeObject {
  const metadata = {
    ...child.metadata,
    namespace: child.metadata.namespace ?? parent.metadata.namespace,
    uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    resourceVersion: String(1000 + index),
    generation: 1,
    creationTimestamp: '2026-11-26T10:00:05Z',
    ownerReferences: [
      {
        apiVersion: parent.apiVersion,
        kind: parent.kind,
        name: parent.metadata.name,
        uid: parent.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
    annotations: {
      ...(child.metadata.annotations ?? {}),
      'metacontroller.k8s.io/last-applied-configuration': JSON.stringify(child),
    },
  }
  const out: KubeObject = { ...child, metadata }
  if (child.kind === 'StatefulSet') {
    const replicas = Number((child.spec as { replicas?: number } | undefined)?.replicas ?? 1)
    out.status = {
      observedGeneration: 1,
      replicas,
      readyReplicas: replicas,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      availableReplicas: replicas,
      currentRevision: `${child.metadata.name}-7d9c8b6f5`,
      updateRevision: `${child.metadata.name}-7d9c8b6f5`,
      collisionCount: 0,
    }
  } else if (child.kind === 'Service') {
    const spec = (child.spec ?? {}) as Record<string, unknown>
    out.spec = { ...spec, clusterIP: spec.clusterIP ?? `10.96.${index % 250}.${(index * 7) % 250}`, sessionAffinity: 'None' }
  } else if (child.kind === 'PodDisruptionBudget') {
    out.status = { observedGeneration: 1, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 }
  }
  return out
}

/** Replaced by the load generator with a fresh id in every request (autocannon idReplacement). */
export const ID_PLACEHOLDER = '[<id>]'

function childKey(c: KubeObject): string {
  return `${c.kind}.${c.apiVersion}/${c.metadata.name}`
}

/**
 * Renders a case through handleSync (no observed children, then with them) and returns the
 * request body a Metacontroller resync would send. Unavailable kinds and features are reported.
 */
export function prepareCase(spec: CaseSpec, config: HookConfig = BENCH_CONFIG): PreparedCase {
  const handler = HANDLERS.find((h) => h.kind === spec.kind)
  if (!handler) return { spec, available: false, reason: `${spec.kind} is not served yet` }
  if (!existsSync(repoPath('examples', spec.example))) return { spec, available: false, reason: `examples/${spec.example} missing` }
  const parent = caseParent(spec)
  const ctx = { config, now: BENCH_NOW }
  const first = handleSync(handler, syncRequest(parent, [], 'v2', [...handler.childResources]), ctx)
  if (isHookError(first)) {
    const unknownField = first.fields.some((f) => /not a known field/.test(f.message))
    if (spec.feature && unknownField) return { spec, available: false, reason: `${spec.feature} is not in the ${spec.kind} schema yet` }
    if (spec.feature) return { spec, available: false, reason: `${spec.feature} rejected: ${first.message}` }
    throw new Error(`${spec.name}: the example does not sync: ${first.message}`)
  }
  const observed = spec.firstSync ? [] : first.children.map((c, i) => asObserved(c, parent, i))
  const fresh = { ...parent, metadata: { ...parent.metadata, resourceVersion: ID_PLACEHOLDER } }
  const body = spec.firstSync
    ? syncRequest(fresh, [], 'v2', [...handler.childResources])
    : syncRequest({ ...fresh, status: first.status }, observed, 'v2', [...handler.childResources])
  const second = handleSync(handler, JSON.parse(JSON.stringify(body)), ctx)
  if (isHookError(second)) throw new Error(`${spec.name}: the resync was rejected: ${second.message}`)
  const before = first.children.map(childKey).sort().join(',')
  const after = second.children.map(childKey).sort().join(',')
  if (before !== after) throw new Error(`${spec.name}: the resync answered a different child set`)
  return {
    spec,
    available: true,
    handler,
    url: `/hooks/${handler.route}/sync`,
    parent,
    body: JSON.stringify(body),
    children: second.children.length,
    responseBytes: Buffer.byteLength(JSON.stringify(second satisfies SyncResponse)),
  }
}
