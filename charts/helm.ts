/**
 * Shared by the chart tests and the kind e2e: where the pinned Helm binary is, how to run
 * `helm template`, and how to check rendered objects against the Kubernetes schemas.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { repoPath } from '../hooks/paths.js'

/** The pinned Helm release; charts/build-helm.sh builds the same one. */
export const HELM_VERSION = 'v3.19.5'
/** The chart folder. */
export const CHART_DIR = repoPath('charts', 'monero-operator')
/** Release name and namespace the tests render with (fullname = release name). */
export const RELEASE = 'monero-operator'
export const NAMESPACE = 'monero-operator'

/** A Kubernetes object as rendered. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [key: string]: unknown
}

/**
 * The helm binary: HELM_BIN, else the cached build of charts/build-helm.sh, else `helm` on
 * PATH when it reports the pinned version. Undefined when none is there.
 */
export function findHelm(): string | undefined {
  if (process.env.HELM_BIN) return process.env.HELM_BIN
  const cache = process.env.MONERO_OPERATOR_CACHE ?? repoPath('.cache')
  const cached = join(cache, `helm-${HELM_VERSION}`, 'helm')
  if (existsSync(cached)) return cached
  const onPath = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.startsWith(HELM_VERSION)) return 'helm'
  return undefined
}

/** Why helm-based tests cannot run here, phrased as what to do. */
export const HELM_MISSING = `helm ${HELM_VERSION} not found: run \`bash charts/build-helm.sh\` (builds it into .cache/), or set HELM_BIN`

/** Runs helm; throws with its stderr on failure. */
export function helm(bin: string, args: string[]): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`)
  }
}

/** `helm template` of the chart with the given values files / --set flags, parsed. */
export function renderChart(bin: string, extra: string[] = []): K8sObject[] {
  const text = helm(bin, [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    '--include-crds',
    '--kube-version',
    '1.32.0',
    '--api-versions',
    'monitoring.coreos.com/v1',
    ...extra,
  ])
  return parseObjects(text)
}

/** Every non-empty YAML document of a multi-document stream. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML error: ${d.errors.map((e) => e.message).join('; ')}`)
      return d.toJS() as K8sObject | null
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object')
}

/** `Kind/name` of an object (namespace ignored). */
export function objectKey(o: K8sObject): string {
  return `${o.kind}/${o.metadata.name}`
}

/** Kinds that are custom resources of other projects: checked structurally, not by schema. */
export const STRUCTURAL_KINDS = new Set(['CompositeController', 'ServiceMonitor', 'PrometheusRule', 'CustomResourceDefinition'])

/**
 * Validates one object against its Kubernetes OpenAPI schema with kubernetes-models
 * (throws on an invalid object). Kinds in STRUCTURAL_KINDS are checked for the basic
 * shape only, and CustomResourceDefinitions with the apiextensions schema.
 */
export async function validateObject(o: K8sObject): Promise<void> {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') throw new Error('apiVersion and kind are required')
  if (typeof o.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name) || o.metadata.name.length > 253) {
    throw new Error(`${o.kind}: invalid metadata.name ${JSON.stringify(o.metadata?.name)}`)
  }
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
      throw new Error(`${objectKey(o)}: invalid label value ${k}=${JSON.stringify(v)}`)
  }
  if (STRUCTURAL_KINDS.has(o.kind)) {
    const spec = o.spec as Record<string, any> | undefined
    if (typeof spec !== 'object' || spec === null) throw new Error(`${objectKey(o)}: spec is required`)
    if (o.kind === 'CustomResourceDefinition') {
      // kubernetes-models' JSONSchemaProps rejects boolean additionalProperties, which the
      // apiserver accepts; the apiserver test tier applies the CRDs for real.
      if (!spec.group || !spec.names?.kind || !spec.names?.plural || !Array.isArray(spec.versions) || spec.versions.length === 0)
        throw new Error(`${objectKey(o)}: group, names and versions are required`)
      if (o.metadata.name !== `${spec.names.plural}.${spec.group}`) throw new Error(`${objectKey(o)}: name must be <plural>.<group>`)
      for (const v of spec.versions) if (!v.schema?.openAPIV3Schema) throw new Error(`${objectKey(o)}: version ${v.name} has no schema`)
    }
    if (o.kind === 'CompositeController' && (!spec.parentResource?.resource || !spec.hooks?.sync?.webhook))
      throw new Error(`${objectKey(o)}: parentResource and hooks.sync.webhook are required`)
    if (o.kind === 'ServiceMonitor' && !Array.isArray(spec.endpoints)) throw new Error(`${objectKey(o)}: endpoints are required`)
    if (o.kind === 'PrometheusRule' && !Array.isArray(spec.groups)) throw new Error(`${objectKey(o)}: groups are required`)
    return
  }
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion]
  const modulePath = group ? `kubernetes-models/${group}/${version}/${o.kind}` : `kubernetes-models/${version}/${o.kind}`
  const mod = (await import(modulePath)) as Record<string, new (data: unknown) => { validate(): void }>
  const Model = mod[o.kind]
  if (!Model) throw new Error(`no kubernetes-models class for ${o.apiVersion} ${o.kind}`)
  new Model(o).validate()
}
