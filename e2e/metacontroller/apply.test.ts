// Metacontroller's update rule (e2e/metacontroller/apply.ts), offline: the 3-way merge, list
// maps, the annotation on create and update, and the cases of issue 13 §2 that make a child
// "Updating" on every sync.
import t from 'tap'
import fc from 'fast-check'
import {
  LAST_APPLIED_ANNOTATION,
  applyDesired,
  defaultNamespace,
  detectListMapKey,
  diffPaths,
  forCreate,
  getLastApplied,
  goJson,
  jsonEqual,
  merge,
  mergeKeyText,
  withLastApplied,
  type Json,
  type JsonObject,
} from './apply.js'

type Obj = Record<string, any>

/** What the apiserver would hand back after a create: the sent object plus server fields. */
function stored(sent: JsonObject, extra: (o: Obj) => void = () => {}): Obj {
  const o = structuredClone(sent) as Obj
  o.metadata.uid = 'u-1'
  o.metadata.resourceVersion = '7'
  o.metadata.creationTimestamp = '2026-12-02T00:00:00Z'
  o.metadata.generation = 1
  extra(o)
  return o
}

const baseSts = (): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'nodes', namespace: 'ns', labels: { app: 'x' } },
  spec: {
    replicas: 2,
    serviceName: 'nodes',
    template: {
      spec: {
        containers: [{ name: 'monerod', image: 'm:1', args: ['--a', '--b'], ports: [{ name: 'p2p', containerPort: 18080 }] }],
      },
    },
    volumeClaimTemplates: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
  },
})

t.test('an identical desired object on an untouched stored object: no update', async (t) => {
  const desired = baseSts()
  const live = stored(withLastApplied(desired))
  const r = applyDesired(live, desired)
  t.equal(r.changed, false)
  t.same(r.merged, live)
  t.same(diffPaths(live, r.merged), [])
})

t.test('server-added fields in objects and in keyed list items are kept', async (t) => {
  const desired = baseSts()
  const live = stored(withLastApplied(desired), (o) => {
    o.spec.podManagementPolicy = 'OrderedReady'
    o.spec.template.spec.containers[0].imagePullPolicy = 'IfNotPresent'
    o.spec.template.spec.containers[0].ports[0].protocol = 'TCP'
    o.status = { replicas: 0 }
  })
  // volumeClaimTemplates unchanged by the "server" here: the list is equal.
  t.equal(applyDesired(live, desired).changed, false)
})

t.test('issue 13: a volumeClaimTemplates item the apiserver completes is replaced whole, every time', async (t) => {
  const desired = baseSts()
  const live = stored(withLastApplied(desired), (o) => {
    o.spec.volumeClaimTemplates[0].spec.volumeMode = 'Filesystem'
    o.spec.volumeClaimTemplates[0].status = { phase: 'Pending' }
  })
  t.equal(detectListMapKey(live.spec.volumeClaimTemplates, desired.spec.volumeClaimTemplates), '', 'no merge key: items have apiVersion/kind/metadata/spec')
  const r = applyDesired(live, desired)
  t.equal(r.changed, true)
  t.same(diffPaths(live, r.merged), [
    'spec.volumeClaimTemplates[0].spec.volumeMode: "Filesystem" -> (absent)',
    'spec.volumeClaimTemplates[0].status: {"phase":"Pending"} -> (absent)',
  ])
  // Sending what the server stores makes it stable.
  const fixed = baseSts()
  fixed.spec.volumeClaimTemplates[0].spec.volumeMode = 'Filesystem'
  fixed.spec.volumeClaimTemplates[0].status = { phase: 'Pending' }
  const live2 = stored(withLastApplied(fixed))
  t.equal(applyDesired(live2, fixed).changed, false)
})

t.test('issue 13: a default the apiserver omits is "missing" on every sync', async (t) => {
  const desired: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'ns' },
    spec: { clusterIP: 'None', publishNotReadyAddresses: false },
  }
  const live = stored(withLastApplied(desired), (o) => delete o.spec.publishNotReadyAddresses)
  const r = applyDesired(live, desired)
  t.equal(r.changed, true)
  t.same(diffPaths(live, r.merged), ['spec.publishNotReadyAddresses: (absent) -> false'])
})

t.test('issue 13: a field the apiserver drops (disabled feature gate) is added back on every sync', async (t) => {
  const desired: Obj = baseSts()
  desired.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } }
  const live = stored(withLastApplied(desired), (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }))
  const r = applyDesired(live, desired)
  t.equal(r.changed, true)
  t.same(diffPaths(live, r.merged), ['spec.updateStrategy.rollingUpdate.maxUnavailable: (absent) -> 2'])
})

t.test('fields in last-applied that are no longer desired are removed; never-sent fields stay', async (t) => {
  const before = baseSts()
  before.spec.minReadySeconds = 5
  const live = stored(withLastApplied(before), (o) => (o.spec.revisionHistoryLimit = 10))
  const after = baseSts()
  const r = applyDesired(live, after)
  t.equal(r.changed, true)
  t.notOk('minReadySeconds' in (r.merged.spec as Obj), 'removed: it was applied before and is no longer desired')
  t.equal((r.merged.spec as Obj).revisionHistoryLimit, 10, 'kept: nobody sent it')
  t.equal(r.merged.metadata && (r.merged.metadata as Obj).annotations[LAST_APPLIED_ANNOTATION], goJson(after as JsonObject), 'annotation = new desired')
})

t.test('without a last-applied annotation nothing is removed', async (t) => {
  const live = stored({ ...baseSts() } as JsonObject, (o) => (o.spec.minReadySeconds = 5))
  const r = applyDesired(live, baseSts())
  t.equal((r.merged.spec as Obj).minReadySeconds, 5)
  t.equal(r.changed, true, 'the annotation itself is added')
  t.same(
    diffPaths(live, r.merged).map((l) => l.split(':')[0]),
    ['metadata.annotations'],
  )
})

t.test('scalars are replaced; lists of scalars are replaced whole', async (t) => {
  const before = baseSts()
  const live = stored(withLastApplied(before))
  const after = baseSts()
  after.spec.replicas = 3
  after.spec.template.spec.containers[0].args = ['--b']
  const r = applyDesired(live, after)
  t.equal((r.merged.spec as Obj).replicas, 3)
  t.same((r.merged.spec as Obj).template.spec.containers[0].args, ['--b'])
  t.same(
    diffPaths(live, r.merged).filter((l) => !l.startsWith('metadata.annotations')),
    ['spec.replicas: 2 -> 3', 'spec.template.spec.containers[0].args: ["--a","--b"] -> ["--b"]'],
  )
})

t.test('list maps: items merged by key, removed when dropped from desired, foreign items kept, order kept', async (t) => {
  const before: Obj = {
    kind: 'X',
    metadata: { name: 'x' },
    spec: {
      containers: [
        { name: 'a', image: '1' },
        { name: 'b', image: '1' },
      ],
    },
  }
  const live = stored(withLastApplied(before), (o) => {
    o.spec.containers[0].imagePullPolicy = 'Always'
    o.spec.containers.unshift({ name: 'injected', image: 'sidecar' }) // added by someone else
  })
  const after: Obj = {
    kind: 'X',
    metadata: { name: 'x' },
    spec: {
      containers: [
        { name: 'c', image: '1' },
        { name: 'a', image: '2' },
      ],
    },
  }
  const r = applyDesired(live, after)
  t.same((r.merged.spec as Obj).containers, [
    { name: 'injected', image: 'sidecar' },
    { name: 'a', image: '2', imagePullPolicy: 'Always' },
    { name: 'c', image: '1' },
  ])
})

t.test('the merge key must be in every item of observed, last-applied and desired; first listed key wins', async (t) => {
  t.equal(detectListMapKey([{ name: 'a', containerPort: 1 }], [{ name: 'b', containerPort: 2 }]), 'containerPort')
  t.equal(detectListMapKey([{ name: 'a', port: 1, path: '/' }]), 'port')
  t.equal(detectListMapKey([{ mountPath: '/a', name: 'v' }]), 'mountPath')
  t.equal(detectListMapKey([{ name: 'a', uid: 'u' }]), 'name')
  t.equal(detectListMapKey([{ uid: 'u', ip: '1' }]), 'uid')
  t.equal(detectListMapKey([{ ip: '1', path: 'p' }]), 'ip')
  t.equal(detectListMapKey([{ path: 'p' }]), 'path')
  t.equal(detectListMapKey([{ name: 'a' }], null, [{ name: 'b' }, { image: 'x' }]), '', 'one desired item lacks it')
  t.equal(detectListMapKey([{ name: 'a' }], [{ key: 'k' }], [{ name: 'b' }]), '', 'a last-applied item lacks it')
  t.equal(detectListMapKey([{ name: 'a' }, 'x'], [{ name: 'b' }]), '', 'an item that is not an object')
  t.equal(detectListMapKey([], null, []), '', 'empty lists: replaced')
  t.equal(detectListMapKey([{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'd' } }]), '', 'metadata.name is not top level')

  // A whole-list replace loses what the server added to items.
  const live = { l: [{ value: 1, extra: true }] }
  t.same(merge(live, { l: [{ value: 1 }] }, { l: [{ value: 1 }] }), { l: [{ value: 1 }] })
  // A keyed merge keeps it.
  t.same(merge({ l: [{ name: 'n', extra: true }] }, { l: [{ name: 'n' }] }, { l: [{ name: 'n' }] }), { l: [{ name: 'n', extra: true }] })
})

t.test('merge keys compare as text; numbers and strings with the same text are one item', async (t) => {
  t.equal(mergeKeyText(8080), '8080')
  t.equal(mergeKeyText(null), '<nil>')
  t.equal(mergeKeyText(true), 'true')
  const out = merge({ ports: [{ port: 80, protocol: 'TCP' }] }, { ports: [{ port: 80 }] }, { ports: [{ port: 80, name: 'http' }, { port: 443 }] })
  t.same(out, { ports: [{ port: 80, protocol: 'TCP', name: 'http' }, { port: 443 }] })
  // Go's quirk: a key duplicated in the observed list yields the merged item at each place.
  t.same(
    merge(
      {
        l: [
          { name: 'a', v: 1 },
          { name: 'a', v: 2 },
        ],
      },
      null,
      { l: [{ name: 'a', w: 3 }] },
    ),
    {
      l: [
        { name: 'a', v: 2, w: 3 },
        { name: 'a', v: 2, w: 3 },
      ],
    },
  )
})

t.test('type mismatches follow the Go code', async (t) => {
  // desired scalar where an object is observed: the object loses its last-applied keys and stays an object.
  t.same(merge({ a: { x: 1, y: 2 } }, { a: { x: 1 } }, { a: 'text' }), { a: { y: 2 } })
  // observed scalar: desired wins whatever it is.
  t.same(merge({ a: 1 }, null, { a: { b: 2 } }), { a: { b: 2 } })
  // desired null is set as null (a difference when the observed key was absent).
  t.same(merge({}, null, { a: null }), { a: null })
  t.notOk(jsonEqual({}, { a: null }))
  // desired non-list where a list is observed, not a list map: null.
  t.same(merge({ a: [1, 2] }, null, { a: 'x' }), { a: null })
})

t.test('system metadata fields and status stay as observed', async (t) => {
  const desired: Obj = { ...baseSts(), metadata: { ...baseSts().metadata, creationTimestamp: null, uid: 'other', generation: 9 }, status: { replicas: 5 } }
  const live = stored(withLastApplied(desired), (o) => {
    o.metadata.creationTimestamp = '2026-12-02T00:00:00Z'
    o.metadata.uid = 'u-1'
    o.metadata.generation = 1
    o.status = { replicas: 0 }
  })
  const r = applyDesired(live, desired)
  t.equal(r.changed, false)
  t.equal((r.merged.metadata as Obj).uid, 'u-1')
  t.same(r.merged.status, { replicas: 0 })
  // A system field the observed object lacks is removed from the result.
  const live2 = structuredClone(live)
  delete live2.metadata.generation
  t.notOk('generation' in (applyDesired(live2, desired).merged.metadata as Obj))
})

t.test('ownerReferences and other annotations that Metacontroller or others added are kept', async (t) => {
  const parent = { apiVersion: 'monero.example/v1', kind: 'P', metadata: { name: 'p', namespace: 'ns', uid: 'pu' } }
  const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { mine: 'yes' } }, data: { a: 'b' } }
  const created = forCreate(desired, parent)
  t.same((created.metadata as Obj).ownerReferences, [
    { apiVersion: 'monero.example/v1', kind: 'P', name: 'p', uid: 'pu', controller: true, blockOwnerDeletion: true },
  ])
  t.equal((created.metadata as Obj).namespace, 'ns', "namespace defaulted to the parent's")
  t.same(getLastApplied(created), defaultNamespace(desired, 'ns'), 'the annotation holds the desired object, namespace defaulted, without the ownerReference')
  const live = stored(created, (o) => (o.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = 'now'))
  const r = applyDesired(live, defaultNamespace(desired, 'ns'))
  t.equal(r.changed, false)
  // A changed desired annotation is an update; the foreign one stays.
  const r2 = applyDesired(live, defaultNamespace({ ...desired, metadata: { ...desired.metadata, annotations: { mine: 'no' } } }, 'ns'))
  t.equal(r2.changed, true)
  t.equal((r2.merged.metadata as Obj).annotations['kubectl.kubernetes.io/restartedAt'], 'now')
  t.equal((r2.merged.metadata as Obj).annotations.mine, 'no')
})

t.test('a last-applied annotation in the desired object is blanked, not nested', async (t) => {
  const desired: Obj = { kind: 'X', metadata: { name: 'x', annotations: { [LAST_APPLIED_ANNOTATION]: '{"old":1}' } }, a: 1 }
  const live = stored(withLastApplied({ kind: 'X', metadata: { name: 'x' }, a: 1 }))
  const r = applyDesired(live, desired)
  const last = getLastApplied(r.merged) as Obj
  t.equal(last.metadata.annotations[LAST_APPLIED_ANNOTATION], '')
})

t.test('annotation text is Go JSON: sorted keys (byte order), HTML characters escaped, compact', async (t) => {
  t.equal(goJson({ b: 1, a: [true, null, 'x<y>&z\u2028'], é: 1, Z: 1.5 }), '{"Z":1.5,"a":[true,null,"x\\u003cy\\u003e\\u0026z\\u2028"],"b":1,"é":1}')
  t.equal(goJson('\n\t\u0001"\\'), '"\\n\\t\\u0001\\"\\\\"')
  const o = withLastApplied({ metadata: { name: 'n', annotations: { z: '1' } }, kind: 'K' })
  t.equal((o.metadata as Obj).annotations[LAST_APPLIED_ANNOTATION], '{"kind":"K","metadata":{"annotations":{"z":"1"},"name":"n"}}')
  t.throws(() => getLastApplied({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: '{' } } }), /can't unmarshal/)
  t.equal(getLastApplied({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: '' } } }), null)
})

t.test('a changed desired value of a field with the same stored value still updates the annotation', async (t) => {
  // Field order differs only: no update (the annotation text is canonical).
  const a = { kind: 'X', metadata: { name: 'x' }, spec: { b: 1, a: 2 } }
  const b = { kind: 'X', metadata: { name: 'x' }, spec: { a: 2, b: 1 } }
  t.equal(applyDesired(stored(withLastApplied(a)), b).changed, false)
})

t.test('diffPaths names each differing leaf', async (t) => {
  t.same(diffPaths({ a: { b: [1, 2], c: 'x' } }, { a: { b: [1, 3], d: true } }), ['a.b[1]: 2 -> 3', 'a.c: "x" -> (absent)', 'a.d: (absent) -> true'])
  t.same(diffPaths({ 'x.y': [1] }, { 'x.y': [1, 2] }), ['["x.y"]: [1] -> [1,2]'])
})

// Properties over arbitrary JSON objects.
const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>
const object = fc.dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 6 }) as fc.Arbitrary<JsonObject>
const child = fc.record({ kind: fc.constant('X'), metadata: fc.record({ name: fc.constant('x') }), spec: object }) as fc.Arbitrary<JsonObject>

t.test('property: applying the same desired object again never updates', async (t) => {
  fc.assert(
    fc.property(child, (desired) => {
      const live = stored(withLastApplied(desired))
      const first = applyDesired(live, desired)
      return !first.changed
    }),
    { numRuns: 500 },
  )
  t.pass('500 random children')
})

// Typed like Kubernetes objects: a field never changes between scalar, list and object (when
// it does, Go's merge is not a fixed point either: a list met by a scalar becomes null first).
const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null)) as fc.Arbitrary<Json>
// Names unique, as the apiserver requires of real list maps (a duplicate key is not a fixed point in Go either).
const item = fc.record({ name: fc.constantFrom('a', 'b', 'c'), x: scalar, y: scalar }, { requiredKeys: ['name'] })
const typedSpec = fc.record(
  {
    s: scalar,
    t: scalar,
    list: fc.array(scalar, { maxLength: 3 }),
    obj: fc.dictionary(fc.constantFrom('p', 'q', 'r'), scalar),
    keyed: fc.uniqueArray(item, { maxLength: 3, selector: (i) => i.name }),
    unkeyed: fc.array(fc.record({ v: scalar }), { maxLength: 3 }),
    nested: fc.record({ u: scalar, keyed: fc.uniqueArray(item, { maxLength: 3, selector: (i) => i.name }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<JsonObject>
const typedChild = typedSpec.map((spec) => ({ kind: 'X', metadata: { name: 'x' }, spec }) as JsonObject)

t.test('property: after one update, the same desired object is stable (the PUT result is a fixed point)', async (t) => {
  fc.assert(
    fc.property(typedChild, typedChild, typedSpec, (before, after, serverAdds) => {
      const live = stored(withLastApplied(before), (o) => {
        for (const [k, v] of Object.entries(serverAdds)) if (!(k in o.spec)) o.spec[k] = v
      })
      const once = applyDesired(live, after)
      const twice = applyDesired(once.merged, after)
      return !twice.changed && jsonEqual(twice.merged, once.merged)
    }),
    { numRuns: 500 },
  )
  t.pass('500 random updates')
})

t.test('property: merge never mutates its inputs', async (t) => {
  fc.assert(
    fc.property(object, object, object, (o, l, d) => {
      const copies = [structuredClone(o), structuredClone(l), structuredClone(d)]
      merge(o, l, d)
      applyDesired({ ...o, metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: goJson(l) } } }, d)
      return jsonEqual(o, copies[0]) && jsonEqual(l, copies[1]) && jsonEqual(d, copies[2])
    }),
    { numRuns: 300 },
  )
  t.pass('inputs unchanged')
})
