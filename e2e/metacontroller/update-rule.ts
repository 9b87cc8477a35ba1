/**
 * How the driver updates an existing child (Metacontroller v4.17.2, `ApplyUpdate` in
 * pkg/controller/common/manage_children.go): the desired object is 3-way merged into the
 * observed one with the last-applied annotation as the common base, read-only metadata
 * fields and `status` are put back as observed, and the annotation is set to the new
 * desired object. The caller PUTs the result only when it differs from what was observed.
 *
 * The merge itself (objects, scalars, list merge keys) is `mergeLastApplied` below until the
 * project's pure rule lands in apply.ts; see ../../shared/METACONTROLLER.md.
 */
import type { KubeObject } from '../../hooks/metacontroller.js'

export const LAST_APPLIED = 'metacontroller.k8s.io/last-applied-configuration'

type Json = unknown
type JsonObject = Record<string, Json>

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Keys that make a list mergeable item by item, first match wins. */
const LIST_MERGE_KEYS = ['containerPort', 'port', 'mountPath', 'name', 'uid', 'ip', 'path']

/** Metadata fields that are read-only and set by the system. */
const SYSTEM_FIELDS = ['selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T))

/** 3-way merge of desired into observed, with lastApplied as the base (no mutation). */
export function mergeLastApplied(observed: Json, lastApplied: Json, desired: Json): Json {
  if (isObject(desired) && isObject(observed)) {
    const out: JsonObject = { ...observed }
    const base = isObject(lastApplied) ? lastApplied : {}
    for (const key of Object.keys(base)) if (!(key in desired)) delete out[key]
    for (const [key, value] of Object.entries(desired)) out[key] = mergeLastApplied(observed[key], base[key], value)
    return clone(out)
  }
  if (Array.isArray(desired) && Array.isArray(observed)) {
    const base = Array.isArray(lastApplied) ? lastApplied : []
    const key = LIST_MERGE_KEYS.find((k) => [...observed, ...base, ...desired].every((item) => isObject(item) && k in item))
    if (!key) return clone(desired)
    const id = (item: Json) => JSON.stringify((item as JsonObject)[key])
    const wanted = new Map(desired.map((d) => [id(d), d]))
    const dropped = new Set(base.map(id).filter((k) => !wanted.has(k)))
    const out: Json[] = []
    const done = new Set<string>()
    for (const item of observed) {
      const k = id(item)
      if (dropped.has(k)) continue
      const d = wanted.get(k)
      out.push(d === undefined ? item : mergeLastApplied(item, base.find((b) => id(b) === k), d))
      done.add(k)
    }
    for (const d of desired) if (!done.has(id(d))) out.push(d)
    return clone(out)
  }
  return clone(desired)
}

/** The object an InPlace update would PUT (it may equal `observed`: then nothing is sent). */
export function applyUpdate(observed: KubeObject, desired: KubeObject): KubeObject {
  const annotation = observed.metadata.annotations?.[LAST_APPLIED]
  let lastApplied: Json = undefined
  if (annotation) {
    try {
      lastApplied = JSON.parse(annotation)
    } catch {
      lastApplied = undefined
    }
  }
  const update = clone(desired)
  if (update.metadata.annotations) delete update.metadata.annotations[LAST_APPLIED]
  const merged = mergeLastApplied(observed, lastApplied, update) as KubeObject
  for (const field of SYSTEM_FIELDS) {
    if (field in observed.metadata) merged.metadata[field] = clone(observed.metadata[field])
    else delete merged.metadata[field]
  }
  if ('status' in observed) merged.status = clone(observed.status)
  else delete merged.status
  merged.metadata.annotations = { ...(merged.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(update) }
  return merged
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined)
    const kb = Object.keys(b).filter((k) => b[k] !== undefined)
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]))
  }
  return false
}

/** Paths where two JSON values differ (for logs and test messages). */
export function jsonDiff(a: Json, b: Json, path = ''): string[] {
  if (jsonEqual(a, b)) return []
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].flatMap((k) => jsonDiff(a[k], b[k], `${path}.${k}`))
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => jsonDiff(x, b[i], `${path}[${i}]`))
  return [`${path || '.'}: ${short(a)} -> ${short(b)}`]
}

function short(v: Json): string {
  const s = JSON.stringify(v) ?? 'undefined'
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}
