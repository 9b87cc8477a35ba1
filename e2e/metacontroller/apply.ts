/**
 * How Metacontroller v4.17.2 updates a child it already owns (client-side "dynamic apply", the
 * default; `pkg/dynamic/apply/apply.go` and `ApplyUpdate`/`updateChildren` in
 * `pkg/controller/common/manage_children.go`), as pure functions on JSON values, so tests can
 * ask "would Metacontroller PUT this child again?" without running it.
 *
 * The rule, as Metacontroller applies it:
 * - On create, the desired object (the child exactly as the hook returned it, with the parent's
 *   namespace filled in when the hook left it out) is serialised into the annotation
 *   `metacontroller.k8s.io/last-applied-configuration` before anything else is added; then a
 *   controller ownerReference to the parent is appended and the object is POSTed.
 * - On every later sync, the newly desired object is merged into the observed (stored) object,
 *   using the annotation as the previous desired state (a 3-way merge):
 *   - objects are merged key by key; a key that was in last-applied but is no longer desired
 *     is removed from the observed object; keys nobody ever sent (server defaults) are kept;
 *   - a scalar (or a value whose observed counterpart is absent or a scalar) is replaced by
 *     the desired value;
 *   - a list is merged item by item only when every item of the observed, last-applied and
 *     desired lists is an object and all of them share one of the top-level keys
 *     `containerPort`, `port`, `mountPath`, `name`, `uid`, `ip`, `path` (the first of these
 *     that all items have is the merge key); any other list is replaced whole by the desired one.
 * - The read-only system fields of metadata (selfLink, uid, resourceVersion, generation,
 *   creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds) and `status` are reset
 *   to their observed values, and the annotation is set to the new desired object.
 * - If the result differs from the observed object in any way (Go's reflect.DeepEqual on the
 *   decoded JSON), Metacontroller logs "Updating" and PUTs it (update method InPlace).
 *
 * So a child is updated on every sync, forever, when what the hook sends is not stored exactly
 * as sent (the apiserver adds fields inside a list that is replaced whole, drops a field, or
 * omits a value equal to its default).
 *
 * Written from a reading of the Go sources; the quirks of the Go code are kept on purpose (an
 * object meeting a desired non-object keeps its keys minus the last-applied ones, a duplicate
 * key in an observed list map yields the merged item twice, merge keys compare as text).
 */

/** The annotation in which Metacontroller keeps the last desired state of a child. */
export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration'

/** The top-level item keys that make a list a "list map", highest precedence first. */
export const MERGE_KEYS: readonly string[] = ['containerPort', 'port', 'mountPath', 'name', 'uid', 'ip', 'path']

/** metadata fields reset to their observed values after the merge (ObjectMeta's read-only system fields). */
export const METADATA_SYSTEM_FIELDS: readonly string[] = [
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]

export type Json = null | boolean | number | string | Json[] | JsonObject
export interface JsonObject {
  [key: string]: Json
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A deep copy holding only what JSON carries (undefined-valued keys dropped), as sent on the wire. */
export function toJson<T>(value: T): Json {
  if (value === undefined) return null
  return JSON.parse(JSON.stringify(value)) as Json
}

/** Own property read that never reaches the prototype (a key may be "__proto__"). */
function own(obj: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined
}

function has(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key)
}

/** Own property write that never sets the prototype. */
function put(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

// ---------------------------------------------------------------------------------------------
// JSON text as Go's encoding/json writes it (what ends up in the annotation)

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

function goString(s: string): string {
  // JSON.stringify escapes the same control characters the same way (\b \f \n \r \t, \u00xx
  // lower-case); Go additionally escapes <, >, & and U+2028/U+2029.
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Serialises a JSON value as Go's json.Marshal does for decoded JSON (map keys sorted
 * byte-wise, HTML-sensitive characters escaped, no spaces): the text Metacontroller stores
 * in the last-applied annotation.
 */
export function goJson(value: Json): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return goString(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a JSON number: ${value}`)
    return JSON.stringify(value)
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`
  return `{${Object.keys(value)
    .sort(utf8Order)
    .map((k) => `${goString(k)}:${goJson(value[k] as Json)}`)
    .join(',')}}`
}

// ---------------------------------------------------------------------------------------------
// The annotation

function annotationsOf(obj: JsonObject): JsonObject | undefined {
  const metadata = own(obj, 'metadata')
  if (!isObject(metadata)) return undefined
  const annotations = own(metadata, 'annotations')
  return isObject(annotations) ? annotations : undefined
}

/** The last-applied object of a stored child, or null when it has none (absent or empty annotation). */
export function getLastApplied(obj: JsonObject): JsonObject | null {
  const text = annotationsOf(obj)?.[LAST_APPLIED_ANNOTATION]
  if (typeof text !== 'string' || text === '') return null
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new Error(`can't unmarshal ${JSON.stringify(LAST_APPLIED_ANNOTATION)} annotation: ${(err as Error).message}`)
  }
  if (parsed === null) return null
  if (!isObject(parsed)) throw new Error(`can't unmarshal ${JSON.stringify(LAST_APPLIED_ANNOTATION)} annotation: not an object`)
  return parsed
}

/** Sets the annotation of obj (in place) to the Go JSON of lastApplied. */
function setLastApplied(obj: JsonObject, lastApplied: JsonObject): void {
  const text = goJson(lastApplied)
  let metadata = own(obj, 'metadata')
  if (!isObject(metadata)) put(obj, 'metadata', (metadata = {}))
  const annotations: JsonObject = {}
  const current = own(metadata, 'annotations')
  // Go reads the annotations as a string map and writes a fresh one.
  if (isObject(current)) for (const [k, v] of Object.entries(current)) if (typeof v === 'string') put(annotations, k, v)
  annotations[LAST_APPLIED_ANNOTATION] = text
  put(metadata, 'annotations', annotations)
}

/** A child as the hook returned it, with metadata.namespace set to the parent's when empty (Metacontroller does this first). */
export function defaultNamespace<T>(child: T, namespace: string): JsonObject {
  const copy = toJson(child)
  if (!isObject(copy)) throw new Error('a child must be an object')
  let metadata = own(copy, 'metadata')
  if (!isObject(metadata)) put(copy, 'metadata', (metadata = {}))
  const ns = own(metadata, 'namespace')
  if (typeof ns !== 'string' || ns === '') metadata.namespace = namespace
  return copy
}

/** The desired child with its last-applied annotation, as Metacontroller sends it on create (before the ownerReference). */
export function withLastApplied<T>(desired: T): JsonObject {
  const copy = toJson(desired)
  if (!isObject(copy)) throw new Error('a child must be an object')
  setLastApplied(copy, toJson(copy) as JsonObject)
  return copy
}

/** The parent fields the controller ownerReference is made of. */
export interface ParentRef {
  apiVersion: string
  kind: string
  metadata: { name: string; uid?: string }
}

/**
 * The object Metacontroller POSTs to create a child: last-applied annotation from the desired
 * object (namespace defaulted), then a controller ownerReference to the parent appended.
 */
export function forCreate<T>(desired: T, parent: ParentRef & { metadata: { namespace?: string } }): JsonObject {
  const obj = withLastApplied(defaultNamespace(desired, parent.metadata.namespace ?? ''))
  const metadata = obj.metadata as JsonObject
  const refs = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : []
  refs.push({
    apiVersion: parent.apiVersion,
    kind: parent.kind,
    name: parent.metadata.name,
    uid: parent.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  })
  metadata.ownerReferences = refs
  return obj
}

// ---------------------------------------------------------------------------------------------
// The 3-way merge

/**
 * Merges desired into a copy of observed, using lastApplied (the previous desired state, or
 * null) to find the fields to remove. Does not touch the annotation or system fields: that is
 * applyDesired().
 */
export function merge(observed: Json, lastApplied: Json | null, desired: Json): Json {
  const destination = toJson(observed)
  return mergeValue(destination, toJson(lastApplied), toJson(desired))
}

function mergeValue(destination: Json | undefined, lastApplied: Json | undefined, desired: Json): Json {
  if (isObject(destination)) {
    // A non-object last-applied or desired value counts as none (Go's failed type assertion gives a nil map).
    return mergeObject(destination, isObject(lastApplied) ? lastApplied : null, isObject(desired) ? desired : null)
  }
  if (Array.isArray(destination)) {
    return mergeArray(destination, Array.isArray(lastApplied) ? lastApplied : null, Array.isArray(desired) ? desired : null)
  }
  // A scalar, null or absent observed value: the desired value replaces it.
  return desired
}

function mergeObject(destination: JsonObject, lastApplied: JsonObject | null, desired: JsonObject | null): JsonObject {
  // Fields present in lastApplied but no longer desired are removed.
  for (const key of Object.keys(lastApplied ?? {})) {
    if (!desired || !has(desired, key)) delete destination[key]
  }
  // Every desired field is merged in (a desired null is set as null).
  for (const key of Object.keys(desired ?? {})) {
    const d = desired as JsonObject
    put(destination, key, mergeValue(own(destination, key), lastApplied ? own(lastApplied, key) : undefined, own(d, key) as Json))
  }
  return destination
}

function mergeArray(destination: Json[], lastApplied: Json[] | null, desired: Json[] | null): Json {
  const key = detectListMapKey(destination, lastApplied, desired)
  if (key !== '') return mergeListMap(key, destination, lastApplied, desired)
  // Not a list map: the desired list replaces the observed one whole.
  return desired
}

/** Text form of a merge key value (Go's fmt %v: numbers and booleans as text, null as <nil>). */
export function mergeKeyText(v: Json | undefined): string {
  if (typeof v === 'string') return v
  if (v === null || v === undefined) return '<nil>'
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `[${v.map(mergeKeyText).join(' ')}]`
  return `map[${Object.keys(v)
    .sort(utf8Order)
    .map((k) => `${k}:${mergeKeyText(v[k])}`)
    .join(' ')}]`
}

function listMap(key: string, list: Json[] | null): Map<string, Json> {
  const out = new Map<string, Json>()
  for (const item of list ?? []) out.set(mergeKeyText(own(item as JsonObject, key)), item)
  return out
}

function mergeListMap(key: string, destination: Json[], lastApplied: Json[] | null, desired: Json[] | null): Json[] {
  const destMap = listMap(key, destination)
  const lastMap = listMap(key, lastApplied)
  const desMap = listMap(key, desired)
  for (const k of lastMap.keys()) if (!desMap.has(k)) destMap.delete(k)
  for (const [k, d] of desMap) destMap.set(k, mergeValue(destMap.get(k), lastMap.get(k), d))

  // Back to a list: observed items first, in observed order, then new desired items in desired order.
  const out: Json[] = []
  const added = new Set<string>()
  for (const item of destination) {
    const k = mergeKeyText(own(item as JsonObject, key))
    if (destMap.has(k)) {
      out.push(destMap.get(k) as Json)
      added.add(k)
    }
  }
  for (const item of desired ?? []) {
    const k = mergeKeyText(own(item as JsonObject, key))
    if (!added.has(k)) {
      out.push(destMap.get(k) as Json)
      added.add(k)
    }
  }
  return out
}

/**
 * The merge key of a list, given every known version of it (observed, last-applied,
 * desired; null for none), or '' when the lists are not list maps: every item must be an
 * object, and the key is the first of MERGE_KEYS that every item has.
 */
export function detectListMapKey(...lists: (Json[] | null | undefined)[]): string {
  let common: Set<string> | undefined
  for (const list of lists) {
    for (const item of list ?? []) {
      if (!isObject(item)) return ''
      if (!common) {
        common = new Set(Object.keys(item))
        continue
      }
      for (const k of [...common]) if (!has(item, k)) common.delete(k)
    }
  }
  for (const k of MERGE_KEYS) if (common?.has(k)) return k
  return ''
}

// ---------------------------------------------------------------------------------------------
// Equality and differences

/** Deep equality of JSON values (key presence matters; key order does not). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]))
  }
  if (isObject(a)) {
    if (!isObject(b)) return false
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => has(b, k) && jsonEqual(a[k], b[k]))
  }
  return false
}

function segment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/**
 * Where two JSON values differ: one line per differing leaf, `path: <before> -> <after>`
 * (`(absent)` for a missing key). Empty when they are equal.
 */
export function diffPaths(before: Json | undefined, after: Json | undefined, path = ''): string[] {
  if (jsonEqual(before, after)) return []
  const show = (v: Json | undefined): string => (v === undefined ? '(absent)' : truncate(JSON.stringify(v)))
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((k) => diffPaths(own(before, k), own(after, k), `${path}${segment(k)}`))
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((v, i) => diffPaths(v, after[i], `${path}[${i}]`))
  }
  return [`${path.replace(/^\./, '') || '(root)'}: ${show(before)} -> ${show(after)}`]
}

function truncate(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}...`
}

// ---------------------------------------------------------------------------------------------
// The update decision

/** What Metacontroller computes for an observed child and the hook's desired version of it. */
export interface ApplyResult {
  /** The object Metacontroller would PUT (when changed). */
  merged: JsonObject
  /** Whether it differs from observed: Metacontroller would log "Updating" and PUT it. */
  changed: boolean
}

/**
 * Metacontroller's update step for one child: 3-way merge of desired into observed using the
 * observed last-applied annotation, system metadata fields and status kept as observed, the
 * annotation set to the new desired object; changed = the result differs from observed.
 * `desired` is the child as the hook returned it (namespace defaulted by the caller, see
 * defaultNamespace, as Metacontroller does before this step).
 */
export function applyDesired<O, D>(observed: O, desired: D): ApplyResult {
  const orig = toJson(observed)
  const update = toJson(desired)
  if (!isObject(orig) || !isObject(update)) throw new Error('observed and desired children must be objects')
  const lastApplied = getLastApplied(orig)

  // A last-applied annotation in the desired object is blanked so it is not nested in itself.
  const desiredAnnotations = annotationsOf(update)
  if (desiredAnnotations && has(desiredAnnotations, LAST_APPLIED_ANNOTATION)) desiredAnnotations[LAST_APPLIED_ANNOTATION] = ''

  const merged = merge(orig, lastApplied, update)
  if (!isObject(merged)) throw new Error('merge of two objects gave a non-object')

  // Read-only system metadata fields and status are kept exactly as observed.
  const origMeta = own(orig, 'metadata')
  for (const field of METADATA_SYSTEM_FIELDS) {
    revertField(merged, orig, ['metadata', field], isObject(origMeta) && has(origMeta, field))
  }
  revertField(merged, orig, ['status'], has(orig, 'status'))

  setLastApplied(merged, update)
  return { merged, changed: !jsonEqual(merged, orig) }
}

function revertField(target: JsonObject, source: JsonObject, path: string[], present: boolean): void {
  const last = path[path.length - 1] as string
  if (present) {
    let from: Json | undefined = source
    for (const p of path) from = own(from as JsonObject, p)
    let to: JsonObject = target
    for (const p of path.slice(0, -1)) {
      const next = own(to, p)
      if (!isObject(next)) put(to, p, {})
      to = own(to, p) as JsonObject
    }
    put(to, last, toJson(from))
  } else {
    let to: Json | undefined = target
    for (const p of path.slice(0, -1)) to = isObject(to) ? own(to, p) : undefined
    if (isObject(to)) delete to[last]
  }
}
