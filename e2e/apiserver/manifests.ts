/**
 * Helpers for tests of the real-apiserver tier that install this repository's YAML
 * (crds/*.yaml, examples/*.yaml) into a control plane from control-plane.ts.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import { kubeRequest, type KubeAnswer } from '../kube-request.js'

/** Every non-empty document of the given YAML files, in order. */
export function readManifests(...paths: string[]): KubernetesObject[] {
  const objects: KubernetesObject[] = []
  for (const path of paths) {
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`)
      const value = doc.toJS() as KubernetesObject | null
      if (value) objects.push(value)
    }
  }
  return objects
}

/** The `*.yaml` / `*.yml` files directly inside dir, sorted (e.g. `yamlFilesIn('crds')`). */
export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name))
}

/** An HTTP answer of the apiserver. */
export type Answer = KubeAnswer

/**
 * One HTTPS request to the control plane with the kubeconfig's credentials (../kube-request.ts);
 * `headers` win over the defaults (e.g. a patch's Content-Type).
 */
export function requestJson(kc: KubeConfig, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return kubeRequest(kc, method, path, { body, headers })
}

/** Resource name and scope of apiVersion/kind, from the apiserver's discovery (asked afresh, so new CRDs are seen). */
async function discover(kc: KubeConfig, apiVersion: string, kind: string): Promise<{ base: string; plural: string; namespaced: boolean }> {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
  const res = await requestJson(kc, 'GET', base)
  if (res.status !== 200) throw new Error(`discovery of ${apiVersion} failed: ${res.status} ${JSON.stringify(res.body)}`)
  const resource = (res.body.resources as { name: string; kind: string; namespaced: boolean }[]).find((r) => r.kind === kind && !r.name.includes('/'))
  if (!resource) throw new Error(`the apiserver serves no kind ${kind} in ${apiVersion}`)
  return { base, plural: resource.name, namespaced: resource.namespaced }
}

/**
 * Server-side applies each object (create or update, forcing ownership) and returns what the
 * apiserver stored (or would store, with dryRun). Namespaced objects without a namespace go
 * to `opts.namespace` (default "default"). Throws an Error carrying the apiserver's Status
 * (`err.status`, `err.body`) on the first rejection, e.g. a schema or CEL validation failure.
 *
 * The objects are sent as plain JSON on purpose: KubernetesObjectApi runs built-in kinds
 * through client-node's typed serializer, which drops keys it does not know under their
 * wire names (a CRD schema's `default`, `x-kubernetes-validations`, ...).
 */
export async function applyObjects(
  kc: KubeConfig,
  objects: KubernetesObject[],
  opts: { namespace?: string; dryRun?: boolean; fieldManager?: string } = {},
): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = []
  const discovered = new Map<string, Awaited<ReturnType<typeof discover>>>()
  for (const object of objects) {
    const { apiVersion, kind } = object
    const name = object.metadata?.name
    if (!apiVersion || !kind || !name) throw new Error(`object without apiVersion, kind or metadata.name: ${JSON.stringify(object).slice(0, 200)}`)
    const key = `${apiVersion}/${kind}`
    if (!discovered.has(key)) discovered.set(key, await discover(kc, apiVersion, kind))
    const { base, plural, namespaced } = discovered.get(key)!
    const namespace = object.metadata?.namespace ?? opts.namespace ?? 'default'
    const body = namespaced ? { ...object, metadata: { ...object.metadata, namespace } } : object
    const query = new URLSearchParams({ fieldManager: opts.fieldManager ?? 'apiserver-tests', force: 'true' })
    if (opts.dryRun) query.set('dryRun', 'All')
    const path = `${base}${namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${plural}/${encodeURIComponent(name)}?${query}`
    const res = await requestJson(kc, 'PATCH', path, body, { 'Content-Type': 'application/apply-patch+yaml' })
    if (res.status < 200 || res.status > 299) {
      const message = typeof res.body === 'object' && res.body ? res.body.message : String(res.body)
      throw Object.assign(new Error(`apply ${kind} ${name}: ${res.status} ${message}`), { status: res.status, body: res.body })
    }
    applied.push(res.body as KubernetesObject)
  }
  return applied
}

/**
 * Waits until each named CRD reports Established (its REST endpoints are served) and
 * NamesAccepted; rejects after timeoutMs with the conditions last seen.
 */
export async function waitForCrdsEstablished(kc: KubeConfig, names: string[], timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api)
  const deadline = Date.now() + timeoutMs
  for (const name of names) {
    let seen = 'not found'
    for (;;) {
      try {
        const crd = await api.readCustomResourceDefinition({ name })
        const conditions = crd.status?.conditions ?? []
        const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True')
        if (isTrue('Established') && isTrue('NamesAccepted')) break
        seen = JSON.stringify(conditions)
      } catch (err) {
        seen = (err as Error).message
      }
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after ${timeoutMs} ms: ${seen}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** Applies CRD manifests (e.g. `yamlFilesIn('crds')`) and waits until all are served. */
export async function installCrds(kc: KubeConfig, paths: string[], timeoutMs = 30_000): Promise<string[]> {
  const crds = readManifests(...paths).filter((o) => o.kind === 'CustomResourceDefinition')
  await applyObjects(kc, crds)
  const names = crds.map((crd) => crd.metadata?.name ?? '')
  await waitForCrdsEstablished(kc, names, timeoutMs)
  return names
}
