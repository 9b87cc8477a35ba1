/**
 * Metacontroller's customize hook (v1 and v2 have the same shape): given the parent, which
 * related objects the sync request should carry. We ask for the Secrets named in
 * `tor.keysSecretName` / `i2p.keysSecretName`, in the parent's namespace only, and, for kinds
 * whose status reports why pods wait (MoneroNodeSet), the set's own Pods by its selector.
 *
 * Request `{controller, parent}`; response `{relatedResources: [{apiVersion, resource,
 * namespace?, names?, labelSelector?}]}`. Metacontroller caches the answer per parent uid
 * and generation, and re-syncs the parent when a related object changes.
 */
import { HookRequestError } from './metacontroller.js'

/** One RelatedResourceRule (selection by namespace and names, or by labels). */
export interface RelatedResourceRule {
  apiVersion: string
  resource: string
  namespace: string
  names?: string[]
  labelSelector?: { matchLabels: Record<string, string> }
}

export interface CustomizeResponse {
  relatedResources: RelatedResourceRule[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Where the node settings (with tor / i2p) are in a parent of each kind. */
export type NodeSpecLocator = (spec: Record<string, unknown>) => unknown

/**
 * The related objects of a parent: the Secrets its tor/i2p settings name and, when `pods`
 * is given, the Pods its selector matches. The parent is not validated here (the sync hook
 * does that): anything that is not a plausible Secret name is ignored. A Secret rule always
 * names its Secrets and the parent's namespace: without names Metacontroller would send every
 * Secret, and without a namespace it would look in all namespaces.
 */
export function customizeRelated(body: unknown, locate: NodeSpecLocator, pods?: (parentName: string) => Record<string, string>): CustomizeResponse {
  if (!isObject(body) || !isObject(body.parent)) throw new HookRequestError(400, 'parent', 'parent is missing or not an object')
  const parent = body.parent
  const meta = isObject(parent.metadata) ? parent.metadata : {}
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default'
  const node = isObject(parent.spec) ? locate(parent.spec) : undefined
  const names = new Set<string>()
  if (isObject(node)) {
    for (const network of ['tor', 'i2p']) {
      const settings = node[network]
      if (!isObject(settings) || settings.enabled !== true) continue
      const name = settings.keysSecretName
      if (typeof name === 'string' && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) && name.length <= 253) names.add(name)
    }
  }
  const rules: RelatedResourceRule[] = []
  if (names.size > 0) rules.push({ apiVersion: 'v1', resource: 'secrets', namespace, names: [...names].sort() })
  if (pods !== undefined && typeof meta.name === 'string' && meta.name !== '') {
    rules.push({ apiVersion: 'v1', resource: 'pods', namespace, labelSelector: { matchLabels: pods(meta.name) } })
  }
  return { relatedResources: rules }
}

/** MoneroNodeSet: the node settings are the spec itself. */
export const nodeSetSpec: NodeSpecLocator = (spec) => spec
/** MoneroNetwork: the node settings are spec.template.spec. */
export const networkNodeSpec: NodeSpecLocator = (spec) => (isObject(spec.template) ? spec.template.spec : undefined)
