/**
 * Metacontroller v4.17.2's client-side apply of a child (pkg/dynamic/apply and
 * manage_children.go), written from its documented rule for tests: what it would PUT for an
 * observed child given the desired one, or undefined when the merge changes nothing (no PUT).
 */
import { LAST_APPLIED_ANNOTATION } from '../handlers.js'
import type { KubeObject } from '../metacontroller.js'

const MERGE_KEYS = ['containerPort', 'port', 'mountPath', 'name', 'uid', 'ip', 'path']
const SYSTEM_FIELDS = ['selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The 3-way merge: fields of lastApplied missing from desired go; desired wins; list maps by key. */
export function mergeApplied(dest: unknown, last: unknown, desired: unknown): unknown {
  if (isObj(dest)) {
    const l = isObj(last) ? last : {}
    const d = isObj(desired) ? desired : {}
    const out: Record<string, unknown> = { ...dest }
    for (const k of Object.keys(l)) if (!(k in d)) delete out[k]
    for (const [k, v] of Object.entries(d)) out[k] = mergeApplied(out[k], l[k], v)
    return out
  }
  if (Array.isArray(dest)) {
    const lists = [dest, Array.isArray(last) ? last : [], Array.isArray(desired) ? desired : []]
    const items = lists.flat()
    const key = items.every(isObj) ? MERGE_KEYS.find((k) => items.every((i) => k in (i as object))) : undefined
    if (!key) return desired
    const byKey = (list: unknown[]) => Object.fromEntries(list.map((i) => [String((i as Record<string, unknown>)[key]), i]))
    const merged = mergeApplied(byKey(dest), byKey(lists[1]!), byKey(lists[2]!)) as Record<string, unknown>
    const order = [...dest, ...lists[2]!].map((i) => String((i as Record<string, unknown>)[key]))
    return [...new Set(order)].filter((k) => k in merged).map((k) => merged[k])
  }
  return desired
}

/** JSON with sorted object keys and no undefined members (a canonical form for comparing). */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/** What Metacontroller would PUT for `observed` given `desired`, or undefined when nothing changes. */
export function applyUpdate(observed: KubeObject, desired: KubeObject): KubeObject | undefined {
  const text = observed.metadata.annotations?.[LAST_APPLIED_ANNOTATION]
  const last = text ? (JSON.parse(text) as unknown) : undefined
  const merged = mergeApplied(observed, last, desired) as KubeObject
  merged.metadata = { ...merged.metadata }
  for (const f of SYSTEM_FIELDS) {
    if (observed.metadata[f] === undefined) delete merged.metadata[f]
    else merged.metadata[f] = observed.metadata[f]
  }
  if (observed.status === undefined) delete merged.status
  else merged.status = observed.status
  merged.metadata.annotations = { ...(merged.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: JSON.stringify(desired) }
  const same = (a: KubeObject, b: KubeObject) => {
    // the annotation is rewritten from desired; equal JSON values count as unchanged
    const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [LAST_APPLIED_ANNOTATION]: sortedJson(JSON.parse(o.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? 'null')) } } })
    return sortedJson(strip(a)) === sortedJson(strip(b))
  }
  return same(merged, observed) ? undefined : merged
}
