/** Test helpers for MoneroMiningNodeSet: requests, Kubernetes' $(VAR) expansion per pod, schema checks. */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Service } from 'kubernetes-models/v1/Service'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import type { V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../config.js'
import { findHandler, isHookError, syncOrError, type HookError } from '../handlers.js'
import type { KubeObject, SyncResponse } from '../metacontroller.js'
import { repoPath } from '../paths.js'
import type { SyncContext } from '../sync-context.js'
import { expandVars } from './expansion.js'

export const CTX: SyncContext = { config: DEFAULT_CONFIG, now: '2026-11-26T10:00:00Z' }

export const handler = findHandler('MoneroMiningNodeSet')!

/** An example from examples/ (first document). */
export function loadExample(file: string): KubeObject {
  return parse(readFileSync(repoPath('examples', file), 'utf8')) as KubeObject
}

/** A parent with the metadata the apiserver adds. */
export function parentWith(spec: unknown, name = 'miners'): KubeObject {
  return {
    apiVersion: 'utxo.com.br/v1alpha1',
    kind: 'MoneroMiningNodeSet',
    metadata: { name, namespace: 'default', uid: '0b8c1f5e-1111-4c1e-9b7e-1d2f0e6b7a10', generation: 1 },
    spec: spec as Record<string, unknown>,
  }
}

/** Runs the hook's path (envelope, schema with defaults, rules, sync); a refused spec is a HookError. */
export function sync(parent: KubeObject, children: Record<string, Record<string, KubeObject>> = {}): SyncResponse | HookError {
  return syncOrError(handler, { parent, children }, CTX)
}

/** Like sync() but fails the test run on a 4xx. */
export function syncOk(parent: KubeObject, children: Record<string, Record<string, KubeObject>> = {}): SyncResponse {
  const r = sync(parent, children)
  if (isHookError(r)) throw new Error(`unexpected ${r.statusCode}: ${r.message}`)
  return r
}

export function statefulSetOf(r: SyncResponse): V1StatefulSet {
  const sts = r.children.find((c) => c.kind === 'StatefulSet')
  if (!sts) throw new Error('no StatefulSet')
  return sts as unknown as V1StatefulSet
}

/**
 * What xmrig receives in pod `index`: the container's env resolved as the kubelet would
 * (downward API fields of that pod, Secrets from `secrets`) and $(VAR) expanded in args.
 */
export function podArgs(sts: V1StatefulSet, index: number, secrets: Record<string, string> = {}): string[] {
  const podName = `${sts.metadata?.name}-${index}`
  const podLabels: Record<string, string> = { ...sts.spec?.template.metadata?.labels, 'apps.kubernetes.io/pod-index': String(index) }
  const xmrig = sts.spec?.template.spec?.containers.find((c) => c.name === 'xmrig')
  if (!xmrig) throw new Error('no xmrig container')
  const env: Record<string, string> = {}
  for (const e of xmrig.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env)
    const field = e.valueFrom?.fieldRef?.fieldPath
    if (field === 'metadata.name') env[e.name] = podName
    else if (field) {
      const m = /^metadata\.labels\['(.+)'\]$/.exec(field)
      if (!m) throw new Error(`unsupported fieldRef ${field}`)
      env[e.name] = podLabels[m[1] as string] ?? ''
    }
    const secret = e.valueFrom?.secretKeyRef
    if (secret) env[e.name] = secrets[`${secret.name}/${secret.key}`] ?? ''
  }
  return (xmrig.args ?? []).map((a) => expandVars(a, env))
}

/** The value of a flag in an argument list (-x V, --long V or --long=V). */
export function flagValue(args: readonly string[], short: string, long: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === short || a === long) return args[i + 1]
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1)
  }
  return undefined
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/StatefulSet': StatefulSet as never,
  'v1/Service': Service as never,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as never,
}

/** Validates a child against the upstream Kubernetes schema; throws naming the child. */
export function validateChild(obj: KubeObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`]
  if (!Model) throw new Error(`no schema for ${obj.apiVersion}/${obj.kind}`)
  try {
    new Model(structuredClone(obj) as never).validate()
  } catch (err) {
    throw new Error(`${obj.kind}/${obj.metadata.name}: ${(err as Error).message}`)
  }
}
