/**
 * Rendering custom resources to the children the hook would return for a new object: the
 * `render` CLI command, and a helper for tests. Goes through syncOrError(), the hook's path (a refused spec is an error here).
 */
import { parseAllDocuments, stringify } from 'yaml'
import { API_GROUP } from './api/group.js'
import { findHandler, isHookError, syncOrError } from './handlers.js'
import type { KubeObject, SyncResponse } from './metacontroller.js'
import type { SyncContext } from './sync-context.js'

export class RenderError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RenderError'
  }
}

/** Parses multi-document YAML into objects, skipping empty documents. */
export function parseResources(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = []
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      throw new RenderError(`${source}: document ${i + 1}: ${doc.errors[0]?.message ?? 'invalid YAML'}`)
    }
    const value = doc.toJS() as unknown
    if (value === null || value === undefined) return
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new RenderError(`${source}: document ${i + 1} is not a Kubernetes object`)
    }
    out.push(value as KubeObject)
  })
  return out
}

/** Renders one resource as a new object (no observed children, no status yet). */
export function renderResource(resource: KubeObject, ctx: SyncContext, source = 'input'): SyncResponse {
  const label = `${source}: ${String(resource.kind)}/${String(resource.metadata?.name)}`
  const handler = typeof resource.kind === 'string' ? findHandler(resource.kind) : undefined
  if (!handler) {
    throw new RenderError(`${source}: kind ${JSON.stringify(resource.kind)} is not one of ours (MoneroNodeSet, MoneroNetwork, MoneroMiningNodeSet)`)
  }
  const metadata = { namespace: 'default', generation: 1, ...(resource.metadata ?? {}) }
  const result = syncOrError(handler, { parent: { ...resource, metadata }, children: {} }, ctx)
  if (isHookError(result)) {
    throw new RenderError(`${label}: ${result.fields.map((f) => `${f.field}: ${f.message}`).join('\n  ')}`)
  }
  return result
}

/** Multi-document YAML of the children (and, with withStatus, the status) of resources. */
export function renderYaml(
  resources: { resource: KubeObject; source: string }[],
  ctx: SyncContext,
  withStatus: boolean,
  onSkip?: (message: string) => void,
): string {
  const docs: string[] = []
  for (const { resource, source } of resources) {
    // Other objects in the same files (an HPA, a Secret) are not ours to render: skip them.
    // Anything claiming our API group must be one of our kinds (a typo is an error).
    if (typeof resource.apiVersion === 'string' && !resource.apiVersion.startsWith(`${API_GROUP}/`)) {
      onSkip?.(`${source}: skipped ${String(resource.kind)}/${String(resource.metadata?.name)} (${resource.apiVersion} is not ${API_GROUP})`)
      continue
    }
    const result = renderResource(resource, ctx, source)
    for (const child of result.children) docs.push(stringify(child, { lineWidth: 0, aliasDuplicateObjects: false }))
    if (withStatus) {
      docs.push(
        stringify(
          {
            apiVersion: resource.apiVersion,
            kind: resource.kind,
            metadata: { name: resource.metadata.name, namespace: resource.metadata.namespace ?? 'default' },
            status: result.status,
          },
          { lineWidth: 0, aliasDuplicateObjects: false },
        ),
      )
    }
  }
  return docs.map((d) => `---\n${d}`).join('')
}
