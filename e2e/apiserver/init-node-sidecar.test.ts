// The init-node container as a real kube-apiserver takes it: a MoneroNetwork's init-node is a
// native sidecar (restartPolicy: Always, startupProbe) that the apiserver stores as sent, so
// Metacontroller's merge (lists without a merge key are replaced whole) finds nothing to
// update; and every monerod pod, sidecar included, passes the "restricted" Pod Security
// Standard (PodSecurity admission, enforce=restricted, on a real Pod create).
import t from 'tap'
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { renderResource } from '../../hooks/render.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import { call, createObject, exampleObjects, HOOK_CTX, messageOf, variant } from './kube.js'

type Json = Record<string, any>

/** Metacontroller v4.17.2's merge keys (pkg/dynamic/apply): a list is merged by key only when every item has it. */
const MERGE_KEYS = ['containerPort', 'port', 'mountPath', 'name', 'uid', 'ip', 'path']

/** JSON with object keys sorted: equal values, equal text (Go maps have no order). */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  )

/**
 * Where merging `sent` into `stored` by Metacontroller's rule would change `stored`: objects
 * field by field, lists by merge key or else replaced whole, scalars replaced.
 */
export function mergeDifferences(sent: unknown, stored: unknown, path = ''): string[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored)) return [`${path}: a list is sent, ${JSON.stringify(stored)} is stored`]
    const items = [...sent, ...stored]
    const key = MERGE_KEYS.find((k) => items.every((i) => i !== null && typeof i === 'object' && !Array.isArray(i) && k in i))
    if (key === undefined) {
      return canonical(sent) === canonical(stored) ? [] : [`${path}: list replaced whole: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(stored)}`]
    }
    return (sent as Json[]).flatMap((item) => {
      const match = (stored as Json[]).find((s) => s[key] === item[key])
      return match === undefined ? [`${path}[${key}=${item[key]}]: not stored`] : mergeDifferences(item, match, `${path}[${key}=${item[key]}]`)
    })
  }
  if (sent !== null && typeof sent === 'object') {
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return [`${path}: an object is sent, ${JSON.stringify(stored)} is stored`]
    return Object.entries(sent).flatMap(([k, v]) => mergeDifferences(v, (stored as Json)[k], `${path}.${k}`))
  }
  return sent === stored ? [] : [`${path}: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(stored)}`]
}

t.test('mergeDifferences follows the rule (self-check)', async (t) => {
  t.same(mergeDifferences({ a: { b: 1 }, l: [{ name: 'x', v: 1 }] }, { a: { b: 1, c: 2 }, l: [{ name: 'x', v: 1, w: 2 }, { name: 'y' }] }), [])
  t.equal(mergeDifferences({ c: ['a'] }, { c: ['a', 'b'] }).length, 1, 'a list without merge key is replaced whole')
  t.equal(mergeDifferences({ p: { f: false } }, { p: {} }).length, 1, 'a field the apiserver omits is always missing')
  t.equal(mergeDifferences([{ a: 1 }], [{ a: 1, b: 2 }]).length, 1, 'objects without a merge key in a list: replaced whole')
  t.same(mergeDifferences([{ a: 1, b: { c: 1, d: 2 } }], [{ b: { d: 2, c: 1 }, a: 1 }]), [], 'key order does not matter')
})

const examples = exampleObjects()
const net = examples.find((e) => e.object.kind === 'MoneroNetwork' && e.object.metadata.name === 'regtest')?.object
const nodes = examples.find((e) => e.object.kind === 'MoneroNodeSet' && e.object.metadata.name === 'nodes')?.object

if (binariesAvailable(t)) {
  t.test('init-node sidecar: stored as sent, and pods pass the restricted Pod Security Standard', async (t) => {
    if (!net || !nodes) throw new Error('the regtest MoneroNetwork and nodes MoneroNodeSet examples are missing')
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const ns = 'restricted'
    const created = await call(kc, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
    })
    t.equal(created.status, 201, messageOf(created))

    const parents: [string, KubeObject, boolean][] = [
      ['MoneroNetwork regtest example', net, true],
      [
        'MoneroNetwork, stagenet',
        variant(net, (o: Json) => {
          o.metadata.name = 'stage'
          o.spec.replicas = 3
          o.spec.template.spec.monerod.args = ['--stagenet']
        }),
        true,
      ],
      [
        'MoneroNetwork with Tor and I2P',
        variant(net, (o: Json) => {
          o.metadata.name = 'hidden-net'
          o.spec.replicas = 3
          o.spec.template.spec.tor = { enabled: true }
          o.spec.template.spec.i2p = { enabled: true }
        }),
        true,
      ],
      [
        'MoneroNodeSet with Tor (one-shot init container)',
        variant(nodes, (o: Json) => {
          o.metadata.name = 'tor-nodes'
          o.spec.tor = { enabled: true }
        }),
        false,
      ],
    ]
    for (const [label, parent, sidecar] of parents) {
      await t.test(label, async (t) => {
        const { children } = renderResource({ ...parent, metadata: { ...parent.metadata, namespace: ns } }, HOOK_CTX, label)
        const sts = children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
        const sent = sts.spec!.template.spec!.initContainers!.find((c) => c.name === 'init-node') as V1Container
        t.equal(sent.restartPolicy, sidecar ? 'Always' : undefined)
        t.equal(sent.startupProbe !== undefined, sidecar)

        const res = await createObject(kc, sts as unknown as KubeObject, ns)
        if (!t.equal(res.status, 201, `StatefulSet created${res.status === 201 ? '' : `: ${messageOf(res)}`}`)) return
        const stored = (res.body as Json).spec.template
        t.same(mergeDifferences(sts.spec!.template, stored, 'spec.template'), [], 'Metacontroller would find nothing to update in the pod template')
        const storedInit = (stored.spec.initContainers as Json[]).find((c) => c.name === 'init-node')!
        t.equal(storedInit.restartPolicy, sent.restartPolicy, 'restartPolicy is stored')
        if (sidecar) {
          t.same(storedInit.startupProbe, { ...sent.startupProbe, timeoutSeconds: 1, successThreshold: 1 }, 'the probe gains only defaulted object fields')
        }

        // A pod of this template, in a namespace that enforces "restricted".
        // (the StatefulSet controller adds the claim of each volumeClaimTemplate as a volume)
        const name = `${sts.metadata!.name}-0`
        const claims = (sts.spec!.volumeClaimTemplates ?? []).map((c) => ({
          name: c.metadata!.name!,
          persistentVolumeClaim: { claimName: `${c.metadata!.name}-${name}` },
        }))
        const podSpec = { ...sts.spec!.template.spec!, volumes: [...claims, ...(sts.spec!.template.spec!.volumes ?? [])] }
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: sts.spec!.template.metadata!.labels }, spec: podSpec }
        const admitted = await createObject(kc, pod as unknown as KubeObject, ns, { dryRun: true })
        t.equal(admitted.status, 201, `restricted admits the pod${admitted.status === 201 ? '' : `: ${messageOf(admitted)}`}`)
        t.notOk(admitted.headers.warning, `no warnings${admitted.headers.warning ? `: ${String(admitted.headers.warning)}` : ''}`)
        const storedPodInit = ((admitted.body as Json).spec.initContainers as Json[]).find((c) => c.name === 'init-node')!
        t.equal(storedPodInit.restartPolicy, sent.restartPolicy, 'the pod keeps the sidecar')
        // the namespace does enforce: the same pod with an init-node that may escalate is refused
        const loose = variant(
          pod,
          (p: Json) => (p.spec.initContainers.find((c: Json) => c.name === 'init-node').securityContext.allowPrivilegeEscalation = true),
        )
        const refused = await createObject(kc, loose as unknown as KubeObject, ns, { dryRun: true })
        t.equal(refused.status, 403, 'restricted refuses an init-node that allows privilege escalation')
        t.match(messageOf(refused), /violates PodSecurity "restricted:latest".*allowPrivilegeEscalation/)
      })
    }
    // the check can fail: a probe command the apiserver would store differently is seen
    const bad = variant(net, (o: Json) => (o.metadata.name = 'bad'))
    const { children } = renderResource({ ...bad, metadata: { ...bad.metadata, namespace: ns } }, HOOK_CTX, 'bad')
    const sts = children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
    const res = await createObject(kc, sts as unknown as KubeObject, ns)
    t.equal(res.status, 201)
    const init = sts.spec!.template.spec!.initContainers![0]!
    init.startupProbe = { ...init.startupProbe, exec: { command: ['test', '-s', '/elsewhere'] } }
    t.equal(mergeDifferences(sts.spec!.template, (res.body as Json).spec.template).length, 1, 'a changed command list is a difference')
  })
}
