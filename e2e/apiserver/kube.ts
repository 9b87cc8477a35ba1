/**
 * Small helpers shared by the test files of the real-apiserver tier: raw REST calls that keep
 * the apiserver's own error text (create with dry run / strict field validation, table form),
 * discovery of resource paths, our examples, and the hook context the tests render with.
 */
import { findHandler, type KindHandler } from '../../hooks/handlers.js'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { installCrds, requestJson as call, type Answer } from './manifests.js'
import { messageOf } from '../kube-request.js'
import { parseAllDocuments } from 'yaml'
import { GROUP_VERSION } from '../../hooks/api/group.js'
import { DEFAULT_OPERATOR_IMAGE } from '../../hooks/config.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { repoPath } from '../../hooks/paths.js'
import type { SyncContext } from '../../hooks/sync-context.js'

/** apiVersion of our kinds. */
export const OUR_API_VERSION = GROUP_VERSION

/** The hook configuration the tests render with (a fixed key seed, so Tor/I2P keys are reproducible). */
export const HOOK_CTX: SyncContext = {
  config: { operatorImage: DEFAULT_OPERATOR_IMAGE, keySeed: Buffer.alloc(32, 7) },
  now: '2026-01-01T00:00:00Z',
}

/**
 * The CRD files in crds/ (kustomization.yaml is not a CRD). APISERVER_TEST_CRDS_DIR points the
 * tier at another folder instead, to try a candidate fix of a CRD before regenerating crds/.
 */
export function crdFiles(): string[] {
  const dir = process.env.APISERVER_TEST_CRDS_DIR || repoPath('crds')
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort()
    .map((f) => join(dir, f))
}

/** Whether crds/ holds a CRD of the given kind. */
export function hasCrdFor(kind: string): boolean {
  return crdFiles().some((f) => parseDocs(f).some((o) => (o.spec as { names?: { kind?: string } } | undefined)?.names?.kind === kind))
}

function parseDocs(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object')
}

/** Every object of every examples/*.yaml, with its file name. */
export function exampleObjects(): { file: string; object: KubeObject }[] {
  const dir = repoPath('examples')
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((file) => parseDocs(join(dir, file)).map((object) => ({ file, object })))
}

/** One HTTPS request with the kubeconfig's credentials (manifests.ts); the tests call it `call`. */
export { requestJson as call, type Answer } from './manifests.js'

export { messageOf }

interface ResourceInfo {
  base: string
  plural: string
  namespaced: boolean
}
const discovered = new WeakMap<KubeConfig, Map<string, ResourceInfo>>()

/** REST base, plural and scope of apiVersion/kind, from discovery (cached per control plane). */
export async function resourceInfo(kc: KubeConfig, apiVersion: string, kind: string): Promise<ResourceInfo> {
  let cache = discovered.get(kc)
  if (!cache) discovered.set(kc, (cache = new Map()))
  const key = `${apiVersion}/${kind}`
  const hit = cache.get(key)
  if (hit) return hit
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
  const res = await call(kc, 'GET', base)
  if (res.status !== 200) throw new Error(`discovery of ${apiVersion} failed: ${res.status} ${messageOf(res)}`)
  for (const r of res.body.resources as { name: string; kind: string; namespaced: boolean }[]) {
    if (!r.name.includes('/')) cache.set(`${apiVersion}/${r.kind}`, { base, plural: r.name, namespaced: r.namespaced })
  }
  const found = cache.get(key)
  if (!found) throw new Error(`the apiserver serves no kind ${kind} in ${apiVersion}`)
  return found
}

/** Collection path (name undefined) or object path of an object of apiVersion/kind. */
export async function pathOf(kc: KubeConfig, apiVersion: string, kind: string, namespace: string, name?: string): Promise<string> {
  const info = await resourceInfo(kc, apiVersion, kind)
  const ns = info.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : ''
  return `${info.base}${ns}/${info.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`
}

/**
 * POSTs (creates) an object in namespace, with strict field validation (what `kubectl apply`
 * sends by default) and optionally as a dry run. Returns the raw answer; never throws on 4xx.
 */
export async function createObject(kc: KubeConfig, object: KubeObject, namespace: string, opts: { dryRun?: boolean; strict?: boolean } = {}): Promise<Answer> {
  const path = await pathOf(kc, object.apiVersion, object.kind, namespace)
  const info = await resourceInfo(kc, object.apiVersion, object.kind)
  const query = new URLSearchParams({ fieldManager: 'apiserver-tests' })
  if (opts.strict ?? true) query.set('fieldValidation', 'Strict')
  if (opts.dryRun) query.set('dryRun', 'All')
  const body = info.namespaced ? { ...object, metadata: { ...object.metadata, namespace } } : object
  return call(kc, 'POST', `${path}?${query}`, body)
}

/** Creates a namespace (idempotent: an existing one is fine). */
export async function ensureNamespace(kc: KubeConfig, name: string): Promise<void> {
  const res = await call(kc, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
  if (res.status !== 201 && res.status !== 409) throw new Error(`create namespace ${name}: ${res.status} ${messageOf(res)}`)
}

/** Parses a label selector string of equality terms (`a=b,c=d`, as status.selector holds) into a map. */
export function parseSelector(selector: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const term of selector.split(',')) {
    if (term === '') continue
    const m = /^([^=!]+?)\s*==?\s*([^=]*)$/.exec(term.trim())
    if (!m) throw new Error(`not an equality selector term: ${JSON.stringify(term)} in ${JSON.stringify(selector)}`)
    out[m[1] as string] = m[2] as string
  }
  return out
}

/** Whether every key/value of subset is in labels. */
export function selects(subset: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(subset).every(([k, v]) => labels?.[k] === v)
}

/** A deep copy of an object, modified by fn (for tables of variants). */
export function variant<T>(object: T, fn: (copy: T) => void): T {
  const copy = structuredClone(object)
  fn(copy)
  return copy
}

/**
 * Installs each CRD of crds/ on its own, so one the apiserver refuses fails (once, with the
 * apiserver's message) without hiding the other kinds. Returns the kinds that are served.
 */
export async function installOurCrds(t: { fail(message: string): unknown }, kc: KubeConfig): Promise<Set<string>> {
  const kinds = new Set<string>()
  for (const file of crdFiles()) {
    try {
      await installCrds(kc, [file])
      for (const o of parseDocs(file)) kinds.add((o.spec as { names: { kind: string } }).names.kind)
    } catch (err) {
      t.fail(`${file}: the apiserver refuses this CRD: ${(err as Error).message}`)
    }
  }
  return kinds
}

/**
 * The hook serving a parent's kind, when its CRD was installed: a missing handler is a failure
 * (every kind in crds/ must be served); a refused CRD was already reported, so the subtest
 * is planned empty.
 */
export function handlerForServedKind(
  t: { fail(message: string): unknown; plan(n: number, comment?: string): unknown },
  kind: string,
  served: Set<string>,
): KindHandler | undefined {
  const handler = findHandler(kind)
  if (!handler) {
    t.fail(`no ${kind} handler in hooks/handlers.ts`)
    return undefined
  }
  if (!served.has(kind)) {
    t.plan(0, `the ${kind} CRD was refused (see the failure above)`)
    return undefined
  }
  return handler
}
