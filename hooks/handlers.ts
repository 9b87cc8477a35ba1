/**
 * The kinds we serve: route, validation and sync function of each. The server (handleSync)
 * and the `render` CLI (syncOrError) both go through evaluateSync(), so a preview is exactly
 * what the hook answers for a valid spec, and an error where the hook would refuse it.
 */
import { GROUP_VERSION } from './api/group.js'
import { HookRequestError, nestingExceeds, parseSyncRequest, type KubeObject, type SyncRequest, type SyncResponse } from './metacontroller.js'
import { nodeSetIdentity, syncMoneroNodeSet } from './moneronodeset/sync.js'
import { selectorLabels } from './labels.js'
import { syncMoneroNetwork } from './moneronetwork/sync.js'
import { syncMoneroMiningNodeSet } from './monerominingnodeset/sync.js'
import { SpecError } from './rules.js'
import { MAX_PARENT_NAME, workloadName, type WorkloadKind } from './names.js'
import { computeRefusedStatus } from './status.js'
import { loadValidators, type KindValidator } from './schema.js'
import { customizeRelated, networkNodeSpec, nodeSetSpec, type CustomizeResponse } from './customize.js'
import type { SyncContext } from './sync-context.js'

/** A child resource a kind may emit: what its CompositeController must list. */
export interface ChildResource {
  readonly apiVersion: string
  readonly resource: string
  readonly kind: string
}

export interface KindHandler {
  readonly kind: string
  /** Lower-case kind: the route is /hooks/<route>/sync. */
  readonly route: string
  readonly plural: string
  /** What one replica is called in status messages (node, peer, miner). */
  readonly noun: string
  /** Every child resource sync() can emit. */
  readonly childResources: readonly ChildResource[]
  /**
   * Child resources emitted only when a spec asks for them and whose CRDs may be absent from
   * a cluster: the default CompositeController omits them (Metacontroller cannot watch an
   * unknown resource); metacontroller/podmonitors adds them.
   */
  readonly optionalChildResources?: readonly ChildResource[]
  sync(request: SyncRequest<never>, ctx: SyncContext): SyncResponse
  /**
   * The customize hook (`/hooks/<route>/customize`): related objects the sync request must
   * carry. Kinds without one have no `hooks.customize` in their CompositeController.
   */
  customize?(body: unknown): CustomizeResponse
}

export const STATEFULSET: ChildResource = { apiVersion: 'apps/v1', resource: 'statefulsets', kind: 'StatefulSet' }
export const SERVICE: ChildResource = { apiVersion: 'v1', resource: 'services', kind: 'Service' }
export const PDB: ChildResource = { apiVersion: 'policy/v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget' }
/** Emitted only with soloMining.enabled (the miners' way in to the unrestricted RPC). */
export const NETWORKPOLICY: ChildResource = { apiVersion: 'networking.k8s.io/v1', resource: 'networkpolicies', kind: 'NetworkPolicy' }
export const CONFIGMAP: ChildResource = { apiVersion: 'v1', resource: 'configmaps', kind: 'ConfigMap' }
export const SECRET: ChildResource = { apiVersion: 'v1', resource: 'secrets', kind: 'Secret' }
/** Prometheus Operator; optional: controllers list it only where its CRDs are installed. */
export const PODMONITOR: ChildResource = { apiVersion: 'monitoring.coreos.com/v1', resource: 'podmonitors', kind: 'PodMonitor' }

export const HANDLERS: readonly KindHandler[] = [
  {
    kind: 'MoneroNodeSet',
    route: 'moneronodeset',
    plural: 'moneronodesets',
    noun: 'node',
    childResources: [STATEFULSET, SERVICE, PDB, CONFIGMAP, SECRET, NETWORKPOLICY],
    optionalChildResources: [PODMONITOR],
    sync: syncMoneroNodeSet as KindHandler['sync'],
    // Its Pods too: status says why pods wait to be scheduled. (A MoneroNetwork can have a
    // thousand members; their Pods would make every sync request megabytes long.)
    customize: (body) => customizeRelated(body, nodeSetSpec, (name) => selectorLabels(nodeSetIdentity(name))),
  },
  {
    kind: 'MoneroNetwork',
    route: 'moneronetwork',
    plural: 'moneronetworks',
    noun: 'peer',
    childResources: [STATEFULSET, SERVICE, PDB, CONFIGMAP, SECRET, NETWORKPOLICY],
    optionalChildResources: [PODMONITOR],
    sync: syncMoneroNetwork as KindHandler['sync'],
    customize: (body) => customizeRelated(body, networkNodeSpec),
  },
  {
    kind: 'MoneroMiningNodeSet',
    route: 'monerominingnodeset',
    plural: 'monerominingnodesets',
    noun: 'miner',
    childResources: [STATEFULSET, SERVICE, PDB],
    optionalChildResources: [PODMONITOR],
    sync: syncMoneroMiningNodeSet as KindHandler['sync'],
  },
]

/** Handler by route segment or kind. */
export function findHandler(routeOrKind: string): KindHandler | undefined {
  return HANDLERS.find((h) => h.route === routeOrKind || h.kind === routeOrKind)
}

let validators: Map<string, KindValidator> | undefined

/** Loads the generated validators now (start-up), instead of on the first request. */
export function warmUp(): void {
  validators ??= loadValidators()
}

/** A 4xx answer: the status code and a JSON body naming the fields at fault. */
export interface HookError {
  readonly statusCode: number
  readonly error: string
  readonly message: string
  readonly fields: { field: string; message: string }[]
}

/** Why a well-formed request's spec was refused: the reason of the `Synced=False` condition. */
export type RefusalReason = 'InvalidSpec' | 'KeySeedMissing' | 'KeysSecretInvalid'

/**
 * What became of one sync request:
 * - `synced`: the spec was accepted; `response` has the desired children and status.
 * - `refused`: the request is well formed but its spec cannot be rendered (a rule of the hook,
 *   the key seed, the keys Secret). `response` keeps every observed child exactly as last
 *   applied and shows the reason in status; it is undefined when that is impossible (a child
 *   without a readable last-applied annotation), and the refusal must then be a 4xx.
 * - `malformed`: not a sync request for this kind at all: always a 4xx.
 */
export type SyncOutcome =
  | { readonly result: 'synced'; readonly response: SyncResponse }
  | { readonly result: 'refused'; readonly reason: RefusalReason; readonly error: HookError; readonly response: SyncResponse | undefined }
  | { readonly result: 'malformed'; readonly error: HookError }

/**
 * The hook's answer to one request (the server's path). A refused spec is answered with 200
 * when every observed child can be reproduced exactly as Metacontroller last applied it, so
 * the reason shows on the resource and nothing changes; otherwise, and for malformed
 * requests, with the HookError (never a partial children list). Unexpected failures throw and
 * become a 500.
 */
export function handleSync(handler: KindHandler, body: unknown, ctx: SyncContext): SyncResponse | HookError {
  const outcome = evaluateSync(handler, body, ctx)
  if (outcome.result === 'synced') return outcome.response
  if (outcome.result === 'refused' && outcome.response) return outcome.response
  return outcome.error
}

/**
 * The sync response, or the HookError of any refusal: for `render` and tests, where a refused
 * spec is an error to show, not an answer that keeps children.
 */
export function syncOrError(handler: KindHandler, body: unknown, ctx: SyncContext): SyncResponse | HookError {
  const outcome = evaluateSync(handler, body, ctx)
  return outcome.result === 'synced' ? outcome.response : outcome.error
}

/** Validates and syncs one request; see SyncOutcome. */
export function evaluateSync(handler: KindHandler, body: unknown, ctx: SyncContext): SyncOutcome {
  warmUp()
  let request: SyncRequest
  try {
    request = parseSyncRequest(body, { apiVersion: GROUP_VERSION, kind: handler.kind })
  } catch (err) {
    if (err instanceof HookRequestError) {
      return { result: 'malformed', error: toHookError(err.statusCode, [{ field: err.field, message: err.message }]) }
    }
    throw err
  }
  const refuse = (reason: RefusalReason, fields: { field: string; message: string }[]): SyncOutcome => {
    const error = toHookError(422, fields)
    return { result: 'refused', reason, error, response: buildRefusalResponse(handler, request, reason, error.message, ctx) }
  }
  // The CRD's rule on the name (child and pod host names derive from it).
  if (request.parent.metadata.name.length > MAX_PARENT_NAME) {
    return refuse('InvalidSpec', [{ field: 'metadata.name', message: `at most ${MAX_PARENT_NAME} characters (child names and pod host names derive from it)` }])
  }
  // Validation applies schema defaults in place: work on a copy, the request stays as sent.
  const spec = structuredClone(request.parent.spec)
  const problems = (validators as Map<string, KindValidator>).get(handler.kind)?.validateSpec(spec) ?? []
  if (problems.length > 0) return refuse('InvalidSpec', problems)
  try {
    return { result: 'synced', response: handler.sync({ ...request, parent: { ...request.parent, spec } } as SyncRequest<never>, ctx) }
  } catch (err) {
    if (err instanceof SpecError) return refuse(refusalReason(err), [{ field: err.field, message: err.message }])
    throw err
  }
}

/**
 * The reason for a SpecError. The Tor/I2P key errors are told apart by their field: a missing
 * key seed is reported on `<spec>.tor` / `<spec>.i2p` itself, a bad keys Secret on its
 * `keysSecretName` (hooks/nodes/anonymity.ts).
 */
export function refusalReason(err: SpecError): RefusalReason {
  if (/\.(tor|i2p)\.keysSecretName$/.test(err.field)) return 'KeysSecretInvalid'
  if (/\.(tor|i2p)$/.test(err.field) && /key seed/.test(err.message)) return 'KeySeedMissing'
  return 'InvalidSpec'
}

/** Where Metacontroller's client-side apply keeps what it last applied to a child. */
export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration'

/** No child we render nests this deep; a deeper annotation is not ours. */
const MAX_CHILD_DEPTH = 100

/**
 * What Metacontroller last applied to an observed child, parsed from its last-applied
 * annotation, or undefined when there is none or it does not describe this very object
 * (server-side apply keeps no such annotation).
 */
export function lastAppliedOf(child: KubeObject): KubeObject | undefined {
  const text = child.metadata.annotations?.[LAST_APPLIED_ANNOTATION]
  if (typeof text !== 'string' || text === '') return undefined
  let applied: unknown
  try {
    applied = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof applied !== 'object' || applied === null || Array.isArray(applied)) return undefined
  const a = applied as Partial<KubeObject>
  if (a.apiVersion !== child.apiVersion || a.kind !== child.kind) return undefined
  if (typeof a.metadata !== 'object' || a.metadata === null || a.metadata.name !== child.metadata.name) return undefined
  if (a.metadata.namespace !== undefined && a.metadata.namespace !== child.metadata.namespace) return undefined
  if (nestingExceeds(applied, MAX_CHILD_DEPTH)) return undefined
  return a as KubeObject
}

/**
 * The answer to a refused spec: every observed child exactly as last applied (desired ==
 * last-applied: Metacontroller's merge changes nothing), and the status of what runs, with
 * `Synced=False` saying why. Undefined when any observed child cannot be reproduced.
 */
function buildRefusalResponse(handler: KindHandler, request: SyncRequest, reason: RefusalReason, message: string, ctx: SyncContext): SyncResponse | undefined {
  const children: KubeObject[] = []
  for (const group of Object.values(request.children)) {
    for (const child of Object.values(group ?? {})) {
      const applied = lastAppliedOf(child)
      if (!applied) return undefined
      children.push(applied)
    }
  }
  const key = (c: KubeObject) => `${c.apiVersion}\u0000${c.kind}\u0000${c.metadata.namespace ?? ''}\u0000${c.metadata.name}`
  children.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  return {
    status: computeRefusedStatus({
      parent: request.parent as KubeObject & { status?: Record<string, unknown> },
      children: request.children,
      workload: workloadName(handler.kind as WorkloadKind, request.parent.metadata.name),
      noun: handler.noun,
      reason,
      message,
      now: ctx.now,
      pods: request.related?.['Pod.v1'],
    }),
    children,
  }
}

function toHookError(statusCode: number, fields: { field: string; message: string }[]): HookError {
  return {
    statusCode,
    error: statusCode === 422 ? 'Unprocessable Entity' : 'Bad Request',
    message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
    fields,
  }
}

export function isHookError(r: SyncResponse | HookError): r is HookError {
  return 'statusCode' in r && 'fields' in r
}
