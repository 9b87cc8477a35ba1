/**
 * The kinds we serve: route, validation and sync function of each. The server and the
 * `render` CLI both go through handleSync(), so a preview is exactly what the hook answers.
 */
import { GROUP_VERSION } from './api/defaults.js'
import { HookRequestError, parseSyncRequest, type SyncRequest, type SyncResponse } from './metacontroller.js'
import { syncMoneroNodeSet } from './moneronodeset/sync.js'
import { syncMoneroNetwork } from './moneronetwork/sync.js'
import { syncMoneroMiningNodeSet } from './monerominingnodeset/sync.js'
import { SpecError } from './nodes/monerod-container.js'
import { MAX_PARENT_NAME } from './names.js'
import { compileValidators, type KindValidator } from './schema.js'
import { customizeKeySecrets, networkNodeSpec, nodeSetSpec, type CustomizeResponse } from './customize.js'
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
export const CONFIGMAP: ChildResource = { apiVersion: 'v1', resource: 'configmaps', kind: 'ConfigMap' }
export const SECRET: ChildResource = { apiVersion: 'v1', resource: 'secrets', kind: 'Secret' }
/** Prometheus Operator; optional: controllers list it only where its CRDs are installed. */
export const PODMONITOR: ChildResource = { apiVersion: 'monitoring.coreos.com/v1', resource: 'podmonitors', kind: 'PodMonitor' }

export const HANDLERS: readonly KindHandler[] = [
  {
    kind: 'MoneroNodeSet',
    route: 'moneronodeset',
    plural: 'moneronodesets',
    childResources: [STATEFULSET, SERVICE, PDB, CONFIGMAP, SECRET],
    optionalChildResources: [PODMONITOR],
    sync: syncMoneroNodeSet as KindHandler['sync'],
    customize: (body) => customizeKeySecrets(body, nodeSetSpec),
  },
  {
    kind: 'MoneroNetwork',
    route: 'moneronetwork',
    plural: 'moneronetworks',
    childResources: [STATEFULSET, SERVICE, PDB, CONFIGMAP, SECRET],
    optionalChildResources: [PODMONITOR],
    sync: syncMoneroNetwork as KindHandler['sync'],
    customize: (body) => customizeKeySecrets(body, networkNodeSpec),
  },
  {
    kind: 'MoneroMiningNodeSet',
    route: 'monerominingnodeset',
    plural: 'monerominingnodesets',
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

/** Compiles the CRD validators now (start-up), instead of on the first request. */
export function warmUp(): void {
  validators ??= compileValidators()
}

/** A 4xx answer: the status code and a JSON body naming the fields at fault. */
export interface HookError {
  readonly statusCode: number
  readonly error: string
  readonly message: string
  readonly fields: { field: string; message: string }[]
}

/**
 * Validates and syncs one request. Returns the response, or a HookError for client mistakes
 * (never a partial children list). Unexpected failures throw and become a 500.
 */
export function handleSync(handler: KindHandler, body: unknown, ctx: SyncContext): SyncResponse | HookError {
  warmUp()
  let request: SyncRequest
  try {
    request = parseSyncRequest(body, { apiVersion: GROUP_VERSION, kind: handler.kind })
  } catch (err) {
    if (err instanceof HookRequestError) return toHookError(err.statusCode, [{ field: err.field, message: err.message }])
    throw err
  }
  // The CRD's rule on the name (child and pod host names derive from it).
  if (request.parent.metadata.name.length > MAX_PARENT_NAME) {
    return toHookError(422, [
      { field: 'metadata.name', message: `at most ${MAX_PARENT_NAME} characters (child names and pod host names derive from it)` },
    ])
  }
  // Validation applies schema defaults in place: work on a copy, the request stays as sent.
  const spec = structuredClone(request.parent.spec)
  const problems = (validators as Map<string, KindValidator>).get(handler.kind)?.validateSpec(spec) ?? []
  if (problems.length > 0) return toHookError(422, problems)
  try {
    return handler.sync({ ...request, parent: { ...request.parent, spec } } as SyncRequest<never>, ctx)
  } catch (err) {
    if (err instanceof SpecError) return toHookError(422, [{ field: err.field, message: err.message }])
    throw err
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
