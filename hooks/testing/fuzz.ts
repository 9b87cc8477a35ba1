/**
 * Fuzzing the sync hooks through real HTTP semantics (app.inject: content type, body limit,
 * Fastify's JSON parsing with its prototype-poisoning checks). Every kind in HANDLERS with an
 * example in examples/ is fuzzed; kinds and features not served yet are skipped as "not
 * available" and picked up once they land.
 *
 * For every hostile request: the answer is a 200 or a 4xx, never a 5xx, a throw or a hang; a
 * 4xx names its fields and carries no children; a 200 has exactly the v2 response keys and the
 * same child set that the same parent renders with no observed children (observed children
 * never make the hook drop a child); the same bytes sent again get the same answer.
 *
 * Run by hooks/fuzz-*.test.ts, one file per kind. The seed is printed first (a TAP comment).
 * FUZZ_RUNS (default 10 000 per kind) changes the count; FUZZ_SEED replays a run;
 * FUZZ_TIMEOUT_MS (default 10000) is the per-request limit.
 */
import t from 'tap'
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { DEFAULT_OPERATOR_IMAGE, type HookConfig } from '../config.js'
import { HANDLERS, isHookError, syncOrError, type KindHandler } from '../handlers.js'
import { childGroupKey, type KubeObject } from '../metacontroller.js'
import { repoPath } from '../paths.js'
import { buildServer } from '../server.js'
import { asStored, syncRequest } from './requests.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 2 ** 31)
const TIMEOUT_MS = Number(process.env.FUZZ_TIMEOUT_MS ?? 10_000)
/** The kinds the project serves or will serve; any other kind in HANDLERS is fuzzed too. */
const EXPECTED_KINDS = ['MoneroNodeSet', 'MoneroMiningNodeSet', 'MoneroNetwork']
const NOW = () => new Date('2026-11-26T12:00:00Z')
const CONFIG: HookConfig = {
  operatorImage: DEFAULT_OPERATOR_IMAGE,
  keySeed: new TextEncoder().encode('fuzz key seed: not a secret, 32+ bytes long'),
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = Record<string, unknown>

/** Where Raw values met by the JSON.stringify in render() go (set only during it). */
let rawSink: string[] | undefined
/** A value that is inserted as raw JSON text (numbers JSON.stringify cannot write, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
  /** Stands in a marker for the text (a toJSON, not a replacer: JSON.stringify stays native). */
  toJSON(): string {
    if (!rawSink) return this.text
    rawSink.push(this.text)
    return `\u0001RAW${rawSink.length - 1}\u0001`
  }
}
/** A value that is an object with an own key JSON.stringify would otherwise never write. */
function withOwn(obj: Obj, key: string, value: unknown): Obj {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  return obj
}

// ------------------------------------------------------------------ seeds: valid requests

interface Seed {
  readonly name: string
  readonly parent: KubeObject
  /** What the apiserver would hold after the first sync of this parent. */
  readonly observed: KubeObject[]
}

function examplesOf(kind: string): { file: string; resource: KubeObject }[] {
  const out: { file: string; resource: KubeObject }[] = []
  for (const file of readdirSync(repoPath('examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(repoPath('examples', file), 'utf8'))) {
      const resource = doc.toJS() as KubeObject | null
      if (resource?.kind === kind) out.push({ file, resource })
    }
  }
  return out
}

function observedFrom(child: KubeObject, i: number): KubeObject {
  const out: KubeObject = {
    ...child,
    metadata: { ...child.metadata, namespace: 'default', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resourceVersion: String(100 + i) },
  }
  if (child.kind === 'StatefulSet') out.status = { replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1, observedGeneration: 1 }
  return out
}

/** Valid parents of a kind (examples, small variants, features when served), rendered once. */
function seedsFor(handler: KindHandler, t: { comment(msg: string): void; fail(msg: string): void }): Seed[] {
  const seeds: Seed[] = []
  const add = (name: string, resource: KubeObject, optional = false) => {
    const parent = asStored(resource)
    const res = syncOrError(handler, { parent, children: {} }, { config: CONFIG, now: '2026-11-26T12:00:00Z' })
    if (isHookError(res)) {
      if (optional) t.comment(`${name}: skipped: not available (${res.message})`)
      else t.fail(`${name} does not sync: ${res.message}`)
      return
    }
    seeds.push({ name, parent, observed: res.children.map(observedFrom) })
  }
  for (const { file, resource } of examplesOf(handler.kind)) {
    add(file, resource)
    const spec = (resource.spec ?? {}) as Obj
    add(`${file} replicas=0`, { ...resource, spec: { ...spec, replicas: 0 } })
    add(`${file} replicas=1`, { ...resource, spec: { ...spec, replicas: 1 } })
    if (handler.kind === 'MoneroNodeSet') {
      add(`${file} +Tor+I2P`, { ...resource, spec: { ...spec, tor: { enabled: true }, i2p: { enabled: true } } }, true)
    }
    // soloMining: monerod's RPC opened to miners, and a NetworkPolicy child
    const solo = { enabled: true, miners: ['miners', 'rigs'] }
    if (handler.kind === 'MoneroNodeSet') add(`${file} +soloMining`, { ...resource, spec: { ...spec, soloMining: solo } }, true)
    if (handler.kind === 'MoneroNetwork') {
      const template = (spec.template ?? {}) as Obj
      add(
        `${file} +soloMining`,
        { ...resource, spec: { ...spec, template: { ...template, spec: { ...((template.spec ?? {}) as Obj), soloMining: solo } } } },
        true,
      )
    }
  }
  return seeds
}

function requestOf(seed: Seed, handler: KindHandler, style: 'v1' | 'v2', observed: boolean): Obj {
  return syncRequest(seed.parent, observed ? seed.observed : [], style, [...handler.childResources])
}

// ------------------------------------------------------------------ hostile values

const EDGE_NUMBERS = [
  0,
  -1,
  1,
  1.5,
  2.9999999,
  1e308,
  -1e308,
  2 ** 53 + 1,
  2 ** 53,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  5e-324,
  1e-7,
  65535,
  65536,
  1001,
  100000,
]
const RAW_NUMBERS = ['-0', '1e309', '-1e309', '1E+2', '3.0', '1e-400', '0.1e1', '1.0000000000000001', '12345678901234567890123456789', '-0.0']
const EDGE_STRINGS = [
  '',
  ' ',
  '0',
  '3',
  '-1',
  'true',
  'null',
  'NaN',
  'Infinity',
  '1e3',
  '0x10',
  '__proto__',
  'constructor',
  'prototype',
  '../../etc/passwd',
  '/',
  '$(id)',
  '$' + '{HOME}',
  '`reboot`',
  "'; DROP TABLE x; --",
  '\u0000',
  'a\nb',
  '\r\n',
  '\t',
  '\ud800',
  '\udfff',
  '🙂',
  'ǅ',
  'İ',
  'Ⅻ',
  '\u202etxet',
  '\u200b',
  'ＡＢＣ',
  'Ω≈ç√',
  'a'.repeat(64),
  'a'.repeat(254),
  '--regtest',
  '--data-dir=/',
  '--add-exclusive-node=1.2.3.4',
  '--p2p-bind-port=1',
  '-o',
  '500m',
  '4Gi',
  '-1Gi',
  '1e3Gi',
  'Default',
  'LoadBalancer',
  'ClusterIP',
  'Delete',
  'Retain',
  'InPlace',
]
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '',
  ' ',
  'replicas',
  'enabled',
  'args',
  'metadata',
  'spec',
  'status',
  'children',
  'x'.repeat(300),
  '🙂',
  'a.b',
  'a/b',
  '$ref',
  'nil',
]

const hugeString = fc.oneof(
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 100, max: 20_000 }).map((n) => '🙂\u0301'.repeat(n)),
)
const deepRaw = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.constantFrom('array', 'object', 'mixed'))
  .map(([n, shape]) =>
    shape === 'array'
      ? new Raw('['.repeat(n) + ']'.repeat(n))
      : shape === 'object'
        ? new Raw(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)
        : new Raw(`${'[{"a":'.repeat(n)}null${'}]'.repeat(n)}`),
  )
const hugeArray = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom<Json>('--regtest', 1, null, {}, [], 'x'.repeat(20)))
  .map(([n, v]) => Array.from({ length: n }, () => v))
const pollutionObject = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 }))
  .map(([key, value]) =>
    key === 'constructor' ? withOwn({}, 'constructor', { prototype: { polluted: true, value } }) : withOwn({}, key, { polluted: true, value }),
  )

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], [[]], { enabled: true }, { enabled: 'true' }) },
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_NUMBERS).map((s) => new Raw(s)) },
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: hugeArray },
  { weight: 1, arbitrary: deepRaw },
  { weight: 2, arbitrary: pollutionObject },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...EDGE_STRINGS), { maxLength: 8 }) },
)
const hostileKey = fc.oneof(fc.constantFrom(...KEYS), fc.string({ unit: 'grapheme', maxLength: 12 }))

// ------------------------------------------------------------------ mutations

type Path = (string | number)[]

/** Every path in a request (bounded), so a mutation can hit any field at any depth. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (out.length > 4000 || prefix.length > 14) return out
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i])
      pathsOf(v, [...prefix, i], out)
    })
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k])
      pathsOf(v, [...prefix, k], out)
    }
  }
  return out
}

function at(root: unknown, path: Path): unknown {
  let v = root
  for (const p of path) v = (v as Record<string | number, unknown>)[p]
  return v
}

type Mutation =
  | { op: 'delete' }
  | { op: 'replace'; value: unknown }
  | { op: 'add'; key: string; value: unknown }
  | { op: 'wrap' }
  | { op: 'stringify' }
  | { op: 'repeat'; times: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'delete' as const }) },
  { weight: 6, arbitrary: hostile.map((value) => ({ op: 'replace' as const, value })) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), key: hostileKey, value: hostile }) },
  { weight: 1, arbitrary: fc.constant({ op: 'wrap' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'stringify' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 3000 }).map((times) => ({ op: 'repeat' as const, times })) },
)

/** Applies a mutation at a path (the root itself when the path is empty); returns the new root. */
function mutate(root: Obj, path: Path, m: Mutation): unknown {
  if (path.length === 0) {
    if (m.op === 'add') return Array.isArray(root) ? [...root, m.value] : withOwn(root, m.key, m.value)
    if (m.op === 'replace') return m.value
    if (m.op === 'wrap') return [root]
    if (m.op === 'stringify') return JSON.stringify(root)
    return m.op === 'delete' ? {} : root
  }
  const container = at(root, path.slice(0, -1)) as Record<string | number, unknown>
  const key = path[path.length - 1] as string | number
  const current = container[key]
  switch (m.op) {
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1)
      else delete container[key]
      break
    case 'replace':
      container[key] = m.value
      break
    case 'add':
      if (Array.isArray(current)) current.push(m.value)
      else if (typeof current === 'object' && current !== null) withOwn(current as Obj, m.key, m.value)
      // an array gets an element, not a named property (defining 'length' on it throws)
      else if (Array.isArray(container)) container.push(m.value)
      else withOwn(container as Obj, m.key, m.value)
      break
    case 'wrap':
      container[key] = [current]
      break
    case 'stringify':
      container[key] = JSON.stringify(current) ?? 'undefined'
      break
    case 'repeat':
      container[key] = Array.isArray(current)
        ? Array.from({ length: m.times }, (_, i) => current[i % Math.max(current.length, 1)] ?? null)
        : Array.from({ length: m.times }, () => current)
      break
  }
  return root
}

/** JSON text of a request, with Raw values written verbatim. */
function render(value: unknown): string {
  const raws: string[] = []
  const markerOf = (i: number) => `\u0001RAW${i}\u0001`
  rawSink = raws
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } finally {
    rawSink = undefined
  }
  if (text === undefined) return 'null'
  return raws.reduce((acc, raw, i) => acc.split(JSON.stringify(markerOf(i))).join(raw), text)
}

/** Text-level damage: truncation, stray bytes, duplicate keys, BOM, escaped pollution keys. */
type TextMutation =
  | { op: 'none' }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'bom' }
  | { op: 'dupkey'; value: string }
  | { op: 'escaped-proto' }
  | { op: 'trailing'; text: string }
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ op: 'none' as const }) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ op: 'truncate' as const, at })) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.constantFrom(',', '"', '}', ']', '\\', '\u0000', 'nul', ':', ' ', '\ud800'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'bom' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('"three"', 'null', '-1', '1e309', '{}').map((value) => ({ op: 'dupkey' as const, value })) },
  { weight: 1, arbitrary: fc.constant({ op: 'escaped-proto' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\n', 'x', '{}', ',').map((text) => ({ op: 'trailing' as const, text })) },
)

function damage(text: string, m: TextMutation): string {
  switch (m.op) {
    case 'none':
      return text
    case 'truncate':
      return text.slice(0, m.at % Math.max(text.length, 1))
    case 'insert': {
      const i = m.at % (text.length + 1)
      return text.slice(0, i) + m.text + text.slice(i)
    }
    case 'bom':
      return `\ufeff${text}`
    case 'dupkey':
      return text.replace(/"replicas":/, `"replicas":${m.value},"replicas":`)
    case 'escaped-proto':
      return text.replace(/^\{/, '{"\\u005f_proto__":{"polluted":true},')
    case 'trailing':
      return text + m.text
  }
}

// ------------------------------------------------------------------ observed-children mixtures

type KeyChoice = 'v1' | 'v2' | 'both' | 'foreign-ns' | 'odd-key' | 'wrong-group' | 'renamed' | 'drop' | 'stripped' | 'no-status'
const keyChoice = fc.constantFrom<KeyChoice>('v1', 'v2', 'both', 'foreign-ns', 'odd-key', 'wrong-group', 'renamed', 'drop', 'stripped', 'no-status')

/** Observed children keyed in a mixture of v1 and v2 styles and otherwise oddly (all valid envelopes). */
function mixChildren(seed: Seed, handler: KindHandler, choices: KeyChoice[], extraGroups: string[]): Obj {
  const children: Record<string, Obj> = {}
  for (const d of handler.childResources) children[childGroupKey(d.apiVersion, d.kind)] = {}
  seed.observed.forEach((child, i) => {
    const choice = choices.length ? (choices[i % choices.length] as KeyChoice) : 'v2'
    const group = (children[childGroupKey(child.apiVersion, child.kind)] ??= {})
    const name = child.metadata.name
    switch (choice) {
      case 'v1':
        group[name] = child
        break
      case 'v2':
        group[`default/${name}`] = child
        break
      case 'both':
        group[name] = child
        group[`default/${name}`] = child
        break
      case 'foreign-ns':
        group[`elsewhere/${name}`] = { ...child, metadata: { ...child.metadata, namespace: 'elsewhere' } }
        break
      case 'odd-key':
        group[`${i}`] = child
        break
      case 'wrong-group':
        ;(children[`${child.kind}.v9`] ??= {})[name] = child
        break
      case 'renamed':
        group[`default/${name}-old`] = { ...child, metadata: { ...child.metadata, name: `${name}-old` } }
        break
      case 'drop':
        break
      case 'stripped':
        group[name] = { apiVersion: child.apiVersion, kind: child.kind, metadata: { name } }
        break
      case 'no-status':
        group[`default/${name}`] = { ...child, status: null }
        break
    }
  })
  for (const g of extraGroups) children[g] = g.startsWith('Null') ? (null as unknown as Obj) : {}
  return children
}

// ------------------------------------------------------------------ the cases

interface FuzzCase {
  readonly kind: 'mutate' | 'envelope' | 'children'
  readonly text: string
}

function casesFor(seeds: Seed[], handler: KindHandler): fc.Arbitrary<FuzzCase> {
  const seed = fc.constantFrom(...seeds)
  const style = fc.constantFrom<'v1' | 'v2'>('v1', 'v2')
  // the most useful: a valid request with one field (anywhere, any depth) mutated
  const mutated = fc
    .record({ seed, style, observed: fc.boolean(), pick: fc.nat(), focus: fc.nat(9), m: mutation, tm: textMutation })
    .map(({ seed, style, observed, pick, focus, m, tm }) => {
      const request = structuredClone(requestOf(seed, handler, style, observed))
      const all = pathsOf(request)
      // most mutations land in parent.spec (where validation matters), the rest anywhere
      const spec = all.filter((p) => p[0] === 'parent' && p[1] === 'spec')
      const pool = focus < 6 && spec.length ? spec : all
      const path = pick % (pool.length + 1) === pool.length ? [] : (pool[pick % (pool.length + 1)] as Path)
      return { kind: 'mutate' as const, text: damage(render(mutate(request, path, m)), tm) }
    })
  // hostile envelopes: the parent or children themselves of the wrong shape
  const envelope = fc
    .record({
      seed,
      parent: fc.option(hostile, { nil: undefined }),
      children: fc.option(fc.oneof(hostile, fc.dictionary(hostileKey, fc.dictionary(hostileKey, hostile, { maxKeys: 3 }), { maxKeys: 4 })), { nil: undefined }),
      extra: fc.dictionary(hostileKey, hostile, { maxKeys: 3 }),
      finalizing: fc.option(hostile, { nil: undefined }),
    })
    .map(({ seed, parent, children, extra, finalizing }) => {
      const body: Obj = {}
      for (const [k, v] of Object.entries(extra)) withOwn(body, k, v)
      withOwn(body, 'parent', parent === undefined ? seed.parent : parent)
      if (children !== undefined) withOwn(body, 'children', children)
      if (finalizing !== undefined) withOwn(body, 'finalizing', finalizing)
      return { kind: 'envelope' as const, text: render(body) }
    })
  // a valid parent with observed children keyed in v1/v2 mixtures and other oddities
  const mixed = fc
    .record({
      seed,
      choices: fc.array(keyChoice, { maxLength: 12 }),
      extra: fc.array(fc.constantFrom('Foo.v1', 'Secret.v1', 'ConfigMap.v1', 'Null.v1', 'StatefulSet.apps/v2'), { maxLength: 3 }),
    })
    .map(({ seed, choices, extra }) => ({
      kind: 'children' as const,
      text: render({ controller: {}, parent: seed.parent, children: mixChildren(seed, handler, choices, extra), related: {}, finalizing: false }),
    }))
  return fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 2, arbitrary: envelope }, { weight: 2, arbitrary: mixed })
}

// ------------------------------------------------------------------ the property

const childId = (c: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }) =>
  `${String(c.kind)}.${String(c.apiVersion)}/${String(c.metadata?.name)}`

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms (hang)`)), TIMEOUT_MS)
    }),
  ])
}

/** A request for a message: runs of a repeated unit folded (deep nesting, huge strings), then cut. */
const excerpt = (text: string) => {
  const folded = text.replace(/([\s\S]{1,6}?)\1{19,}/g, (run: string, unit: string) => `<${JSON.stringify(unit)} x ${run.length / unit.length}>`)
  return folded.length > 1500 ? `${folded.slice(0, 1500)}... (${text.length} chars)` : `${folded} (${text.length} chars)`
}

const prototypeSnapshot = () =>
  JSON.stringify([Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Object.getOwnPropertyNames(p).sort()))
const before = prototypeSnapshot()

/**
 * Fuzzes the given kinds (one test each). The fuzz-*.test.ts files split the kinds so that tap
 * runs them in parallel; `others` adds every served kind not in EXPECTED_KINDS.
 */
export function fuzzKinds(wanted: readonly string[], others = false): void {
  t.comment(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${RUNS} runs per kind (FUZZ_RUNS)`)
  const kinds = [...new Set([...wanted, ...(others ? HANDLERS.map((h) => h.kind).filter((k) => !EXPECTED_KINDS.includes(k)) : [])])]
  for (const kind of kinds) fuzzKind(kind)
}

function fuzzKind(kind: string): void {
  const served = HANDLERS.find((h) => h.kind === kind)
  const skip = served
    ? examplesOf(kind).length
      ? false
      : `${kind}: skipped: not available (no example in examples/)`
    : `${kind}: skipped: not available (not served yet)`
  t.test(`fuzz ${kind}`, { skip }, async (t) => {
    const handler = served as KindHandler
    const seeds = seedsFor(handler, t)
    // the server's own error log tells what a 5xx was about
    let lastError = ''
    const stream = {
      write(line: string) {
        try {
          const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string; stack?: string } }
          lastError = entry.err ? `${entry.err.type}: ${entry.err.message} ${(entry.err.stack ?? '').split('\n')[1]?.trim() ?? ''}` : String(entry.msg)
        } catch {
          lastError = line
        }
      },
    }
    const app = buildServer({ config: CONFIG, now: NOW, processMetrics: false, logger: { level: 'error', stream } })
    t.teardown(() => app.close())
    const url = `/hooks/${handler.route}/sync`
    const post = (payload: string) => withTimeout(app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload }), url)
    const aloneCache = new Map<string, Set<string>>()
    const counts: Record<string, number> = {}
    /** Distinct failures (by what went wrong), each with its shortest request. */
    const failures = new Map<string, { hits: number; text: string; detail: string }>()
    const started = performance.now()

    const check = async (c: FuzzCase): Promise<void> => {
      const fail = (why: string, detail = ''): void => {
        const known = failures.get(why)
        if (!known || c.text.length < known.text.length) failures.set(why, { hits: (known?.hits ?? 0) + 1, text: c.text, detail })
        else known.hits++
      }
      lastError = ''
      let res: Awaited<ReturnType<typeof post>>
      try {
        res = await post(c.text)
      } catch (err) {
        return fail(`inject threw or hung: ${String(err)}`)
      }
      counts[`${c.kind} ${res.statusCode}`] = (counts[`${c.kind} ${res.statusCode}`] ?? 0) + 1
      if (res.statusCode !== 200 && (res.statusCode < 400 || res.statusCode > 499)) return fail(`status ${res.statusCode}: ${lastError || excerpt(res.body)}`)
      let body: Obj
      try {
        body = JSON.parse(res.body) as Obj
      } catch {
        return fail(`status ${res.statusCode} with a body that is not JSON`, excerpt(res.body))
      }
      if (res.statusCode !== 200) {
        if (typeof body.message !== 'string' || body.message.length === 0) fail('4xx without a message', excerpt(res.body))
        if (!Array.isArray(body.fields)) fail('4xx without fields', excerpt(res.body))
        if ('children' in body) fail('4xx with children', excerpt(res.body))
        return
      }
      // the same bytes again (a resync): the same answer, byte for byte (a sync is a pure function of its request)
      const again = await post(c.text)
      if (again.statusCode !== 200 || again.body !== res.body) fail('the same request sent again got a different answer', excerpt(again.body))
      const keys = Object.keys(body).sort()
      if (!keys.includes('children') || !keys.includes('status') || keys.some((k) => !['children', 'status', 'resyncAfterSeconds'].includes(k))) {
        return fail(`200 with keys ${keys.join(',')}`)
      }
      if (!Array.isArray(body.children) || typeof body.status !== 'object' || body.status === null)
        return fail('200 without a children list and a status object')
      const got = new Set((body.children as KubeObject[]).map(childId))
      for (const child of body.children as KubeObject[]) {
        if (typeof child.apiVersion !== 'string' || typeof child.kind !== 'string' || typeof child.metadata?.name !== 'string' || child.metadata.name === '') {
          fail('200 with a child lacking apiVersion/kind/metadata.name', excerpt(JSON.stringify(child)))
        }
      }
      // the same parent sent alone (no observed children) must render the same child set
      const parent = (JSON.parse(c.text.replace(/^\ufeff/, '')) as { parent: unknown }).parent
      let aloneText: string
      try {
        aloneText = JSON.stringify({ parent, children: {} })
      } catch {
        // nested deeper than JSON.stringify's stack (outside the spec, which the hook ignores)
        counts['200 too deep to re-send alone'] = (counts['200 too deep to re-send alone'] ?? 0) + 1
        return
      }
      let alone = aloneCache.get(aloneText)
      if (!alone) {
        const res2 = await post(aloneText)
        if (res2.statusCode !== 200) return fail(`200 with observed children but ${res2.statusCode} for the parent alone`, excerpt(res2.body))
        alone = new Set(((JSON.parse(res2.body) as { children: KubeObject[] }).children ?? []).map(childId))
        if (aloneCache.size < 200) aloneCache.set(aloneText, alone)
      }
      const dropped = [...alone].filter((id) => !got.has(id))
      const added = [...got].filter((id) => !alone.has(id))
      if (dropped.length) fail('observed children made the hook drop a child', dropped.join(', '))
      if (added.length) fail('observed children made the hook add a child', added.join(', '))
    }

    // Failures are collected rather than thrown, so that one run reports every distinct problem.
    const guarded = async (c: FuzzCase) => {
      try {
        await check(c)
      } catch (err) {
        const known = failures.get(`the harness threw: ${String(err)}`)
        failures.set(`the harness threw: ${String(err)}`, {
          hits: (known?.hits ?? 0) + 1,
          text: known && known.text.length < c.text.length ? known.text : c.text,
          detail: '',
        })
      }
    }
    await fc.assert(fc.asyncProperty(casesFor(seeds, handler), guarded), { numRuns: RUNS, seed: SEED })
    for (const [why, f] of failures) {
      t.fail(`${kind}: ${why} (${f.hits} of ${RUNS})${f.detail ? `\n  detail: ${f.detail}` : ''}\n  shortest request: ${excerpt(f.text)}`)
    }
    if (failures.size === 0) t.pass(`${RUNS} hostile requests: never a 5xx, a hang or a dropped child`)
    const seconds = (performance.now() - started) / 1000
    t.comment(`${kind}: ${RUNS} runs in ${seconds.toFixed(1)} s (seed ${SEED}; replay with FUZZ_SEED=${SEED}); outcomes ${JSON.stringify(counts)}`)
    const ok = Object.entries(counts)
      .filter(([k]) => k.endsWith(' 200'))
      .reduce((a, [, n]) => a + n, 0)
    t.ok(ok > RUNS * 0.05, `valid requests are part of the mix (${ok} answered 200)`)
    t.equal(prototypeSnapshot(), before, 'no built-in prototype gained or lost a property')
    t.equal(({} as Obj).polluted, undefined, 'Object.prototype not polluted')
  })
}
