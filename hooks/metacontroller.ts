/**
 * The Metacontroller CompositeController hook protocol (v1 and v2 request bodies, v2
 * response), typed, and the checks that turn a malformed request into a 4xx.
 */

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [field: string]: unknown
}

export interface ObjectMeta {
  name: string
  namespace?: string
  uid?: string
  generation?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  creationTimestamp?: string
  [field: string]: unknown
}

/** A parent custom resource as Metacontroller sends it. */
export interface Parent<Spec, Status = Record<string, unknown>> extends KubeObject {
  spec: Spec
  status?: Status
}

/**
 * Observed children: group key (`Kind.version` or `Kind.group/version`) to objects keyed by
 * `name` (v1) or `namespace/name` (v2).
 */
export type ChildMap = Record<string, Record<string, KubeObject>>

export interface SyncRequest<Spec = unknown> {
  controller?: unknown
  parent: Parent<Spec>
  children: ChildMap
  related?: ChildMap
  finalizing?: boolean
}

/** The v2 response: only fields Metacontroller's strict decoder knows. */
export interface SyncResponse {
  status: Record<string, unknown>
  children: KubeObject[]
  resyncAfterSeconds?: number
}

/** A client mistake in the request: answered with `status` and a message naming the field. */
export class HookRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly field: string,
    message: string,
  ) {
    super(message)
    this.name = 'HookRequestError'
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Checks the envelope of a sync request and returns it typed (the spec is checked later). */
export function parseSyncRequest(body: unknown, expected: { apiVersion: string; kind: string }): SyncRequest {
  if (!isObject(body)) throw new HookRequestError(400, 'body', 'request body must be a JSON object')
  const parent = body.parent
  if (!isObject(parent)) throw new HookRequestError(400, 'parent', 'parent is missing or not an object')
  if (parent.apiVersion !== expected.apiVersion || parent.kind !== expected.kind) {
    throw new HookRequestError(
      400,
      'parent.kind',
      `this hook serves ${expected.kind} (${expected.apiVersion}), got ${describe(parent.kind)} (${describe(parent.apiVersion)})`,
    )
  }
  const meta = parent.metadata
  if (!isObject(meta)) throw new HookRequestError(400, 'parent.metadata', 'parent.metadata is missing or not an object')
  if (typeof meta.name !== 'string' || meta.name.length === 0) {
    throw new HookRequestError(400, 'parent.metadata.name', 'parent.metadata.name must be a non-empty string')
  }
  for (const key of ['namespace', 'uid'] as const) {
    if (meta[key] !== undefined && typeof meta[key] !== 'string') {
      throw new HookRequestError(400, `parent.metadata.${key}`, `parent.metadata.${key} must be a string`)
    }
  }
  // Kubernetes' own limits: object names are DNS subdomains, namespaces DNS labels.
  if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
    throw new HookRequestError(400, 'parent.metadata.name', 'parent.metadata.name must be a DNS subdomain (lower case, at most 253 characters)')
  }
  if (typeof meta.namespace === 'string' && (meta.namespace.length > 63 || !DNS_LABEL.test(meta.namespace))) {
    throw new HookRequestError(400, 'parent.metadata.namespace', 'parent.metadata.namespace must be a DNS label (lower case, at most 63 characters)')
  }
  if (meta.generation !== undefined && !Number.isSafeInteger(meta.generation)) {
    throw new HookRequestError(400, 'parent.metadata.generation', 'parent.metadata.generation must be an integer')
  }
  if (parent.spec === undefined || parent.spec === null) {
    throw new HookRequestError(422, 'parent.spec', 'parent.spec is missing')
  }
  // Every CRD of ours declares spec an object: anything else never came from the apiserver.
  if (!isObject(parent.spec)) throw new HookRequestError(422, 'parent.spec', 'parent.spec must be an object')
  if (nestingExceeds(parent.spec, MAX_SPEC_DEPTH)) {
    throw new HookRequestError(422, 'parent.spec', `parent.spec nests deeper than ${MAX_SPEC_DEPTH} levels`)
  }
  if (parent.status !== undefined && parent.status !== null && !isObject(parent.status)) {
    throw new HookRequestError(400, 'parent.status', 'parent.status must be an object')
  }
  const children = body.children ?? {}
  if (!isObject(children)) throw new HookRequestError(400, 'children', 'children must be an object of child groups')
  for (const [group, objects] of Object.entries(children)) {
    if (objects === null) continue
    if (!isObject(objects)) throw new HookRequestError(400, `children[${group}]`, 'each child group must be an object')
    for (const [key, child] of Object.entries(objects)) {
      if (!isObject(child) || !isObject(child.metadata) || typeof child.metadata.name !== 'string') {
        throw new HookRequestError(400, `children[${group}][${key}]`, 'each observed child must be an object with metadata.name')
      }
    }
  }
  if (body.finalizing !== undefined && typeof body.finalizing !== 'boolean') {
    throw new HookRequestError(400, 'finalizing', 'finalizing must be a boolean')
  }
  // Metacontroller always sends children; a hand-written request may not: treat as none.
  return { ...(body as unknown as SyncRequest), children: children as ChildMap }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
/** No CRD of ours nests a spec this deep; deeper input is hostile (and would blow the stack). */
export const MAX_SPEC_DEPTH = 64

/** Whether a JSON value nests deeper than `max` levels (iterative: no recursion to exhaust). */
export function nestingExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v !== 'object' || v === null) continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'undefined' ? 'nothing' : `a ${typeof v}`
}

/** Group key of a child kind, as Metacontroller builds it. */
export function childGroupKey(apiVersion: string, kind: string): string {
  return `${kind}.${apiVersion}`
}

/**
 * Observed children of one kind, by object name, whatever the key style (v1 `name` or v2
 * `namespace/name`).
 */
export function observedByName(children: ChildMap, apiVersion: string, kind: string): Map<string, KubeObject> {
  const group = children[childGroupKey(apiVersion, kind)]
  const out = new Map<string, KubeObject>()
  if (!group) return out
  for (const obj of Object.values(group)) {
    if (obj && typeof obj.metadata?.name === 'string') out.set(obj.metadata.name, obj)
  }
  return out
}
