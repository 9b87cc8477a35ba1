// Every child our hook renders for every example (and a few variants) is accepted by a real
// kube-apiserver: a server-side dry-run create with strict field validation, then a real
// create, then the wiring checks the apiserver cannot make across objects: workload
// selectors match their pod templates and the parent's status.selector, PDBs select the
// workload's pods, Services select pods, every child carries the parent's selector labels
// (Metacontroller refuses children that do not).
import t from 'tap'
import { handleSync, isHookError } from '../../hooks/handlers.js'
import { LABEL_POD_NAME } from '../../hooks/labels.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { renderResource } from '../../hooks/render.js'
import { syncRequest } from '../../hooks/testing/requests.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import { readManifests } from './manifests.js'
import {
  call,
  createObject,
  crdFiles,
  installOurCrds,
  ensureNamespace,
  exampleObjects,
  HOOK_CTX,
  messageOf,
  OUR_API_VERSION,
  parseSelector,
  pathOf,
  selects,
  variant,
  handlerForServedKind,
} from './kube.js'

type Json = Record<string, any>

const examples = exampleObjects().filter((e) => e.object.apiVersion === OUR_API_VERSION)
/** The proposal's example of a kind (nodes, regtest, miners): the base of the variants. */
const PROPOSAL_NAMES = new Set(['nodes', 'regtest', 'miners'])
const example = (kind: string): KubeObject => {
  const found = examples.find((e) => e.object.kind === kind && PROPOSAL_NAMES.has(e.object.metadata.name))
  if (!found) throw new Error(`no ${kind} example in examples/`)
  return found.object
}

/** The parents to render: every example as written, then variants. */
function parents(): { label: string; parent: KubeObject }[] {
  const out = examples.map((e) => ({ label: `${e.file} (${e.object.kind}/${e.object.metadata.name})`, parent: e.object }))
  const nodes = example('MoneroNodeSet')
  const net = example('MoneroNetwork')
  const miners = example('MoneroMiningNodeSet')
  const add = (label: string, base: KubeObject, fn: (o: Json) => void) => out.push({ label, parent: variant(base, fn as (o: KubeObject) => void) })
  add('MoneroNodeSet, 1 replica (no PDB)', nodes, (o) => {
    o.metadata.name = 'single'
    o.spec.replicas = 1
  })
  add('MoneroNodeSet, LoadBalancer service', nodes, (o) => {
    o.metadata.name = 'public-lb'
    o.spec.service = {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      loadBalancerSourceRanges: ['0.0.0.0/0'],
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    }
  })
  add('MoneroNodeSet, stagenet, NodePort p2p only, pruned storage', nodes, (o) => {
    o.metadata.name = 'stagenet'
    o.spec.replicas = 2
    o.spec.monerod.args = ['--stagenet', '--prune-blockchain']
    o.spec.service = { type: 'NodePort', p2p: true, restrictedRpc: false }
    o.spec.storage = { size: '100Gi', storageClassName: 'fast', retention: { whenDeleted: 'Delete', whenScaled: 'Delete' } }
  })
  add('MoneroNodeSet, 0 replicas', nodes, (o) => {
    o.metadata.name = 'parked'
    o.spec.replicas = 0
  })
  add('MoneroNodeSet, name of 40 characters', nodes, (o) => (o.metadata.name = 'n'.repeat(40)))
  add('MoneroNetwork, 1 replica', net, (o) => {
    o.metadata.name = 'solo'
    o.spec.replicas = 1
  })
  add('MoneroNetwork with Tor and I2P', net, (o) => {
    o.metadata.name = 'hidden-net'
    o.spec.replicas = 3
    o.spec.template.spec.tor = { enabled: true }
    o.spec.template.spec.i2p = { enabled: true, publish: { p2p: true, restrictedRpc: true } }
  })
  add('MoneroNetwork, stagenet with template metadata and LoadBalancer', net, (o) => {
    o.metadata.name = 'stagenet-net'
    o.spec.replicas = 3
    o.spec.template.metadata = { labels: { team: 'qa' }, annotations: { 'example.com/note': 'x' } }
    o.spec.template.spec.monerod.args = ['--stagenet']
    o.spec.template.spec.service = { type: 'LoadBalancer' }
  })
  add('MoneroNetwork, name of 40 characters', net, (o) => {
    o.metadata.name = 'w'.repeat(40)
    o.spec.replicas = 2
  })
  add('MoneroMiningNodeSet, 1 replica, metrics off', miners, (o) => {
    o.metadata.name = 'one-miner'
    o.spec.replicas = 1
    o.spec.metrics = { enabled: false }
  })
  add('MoneroMiningNodeSet, name of 40 characters', miners, (o) => (o.metadata.name = 'm'.repeat(40)))
  return out
}

const WORKLOAD_KINDS = new Set(['StatefulSet', 'Deployment'])

if (binariesAvailable(t)) {
  t.test('rendered children are accepted and wired correctly', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)

    // Tor/I2P variants need spec.tor / spec.i2p in a CRD; say so while they are absent.
    const crdSpecs = readManifests(...crdFiles()).map((c) => (c as Json).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties as Json)
    const anonymity = crdSpecs.some((s) => 'tor' in s || 'i2p' in s || 'tor' in (s.template?.properties?.spec?.properties ?? {}))
    t.ok(anonymity, 'the CRDs have spec.tor / spec.i2p')
    t.ok(
      parents().some(({ parent }) => (parent.spec as Json)?.tor?.enabled && (parent.spec as Json)?.i2p?.enabled),
      'a Tor+I2P parent is among those rendered (keySeed Buffer.alloc(32, 7)): its Secret, ConfigMap and sidecars are checked below',
    )

    let index = 0
    for (const { label, parent: written } of parents()) {
      const ns = `children-${index++}`
      await t.test(label, async (t) => {
        const handler = handlerForServedKind(t, written.kind, served)
        if (!handler) return
        await ensureNamespace(kc, ns)

        // The parent as the apiserver stores it (defaults applied), as Metacontroller sends it.
        const created = await createObject(kc, written, ns)
        if (!t.equal(created.status, 201, `the parent is accepted${created.status === 201 ? '' : `: ${messageOf(created)}`}`)) return
        const stored = created.body as KubeObject
        const result = handleSync(handler, syncRequest(stored), HOOK_CTX)
        if (isHookError(result)) {
          t.fail(`the hook refuses the stored parent: ${result.message}`)
          return
        }
        const synced = result as SyncResponse

        // The hook's own defaulting (ajv) gives the same children as the apiserver's defaults.
        const rendered = renderResource({ ...written, metadata: { ...written.metadata, namespace: ns } }, HOOK_CTX, label)
        t.same(rendered.children, synced.children, 'render (hook defaults) and sync of the stored parent (apiserver defaults) agree')

        const children = synced.children
        t.ok(children.length > 0, `${children.length} children`)
        const selectorText = synced.status.selector
        if (!t.type(selectorText, 'string', 'status.selector is a string')) return
        const parentSelector = parseSelector(selectorText as string)
        t.ok(Object.keys(parentSelector).length > 0, `status.selector ${JSON.stringify(selectorText)} parses`)

        // Dry run first: a refusal here is what Metacontroller would get on apply.
        for (const child of children) {
          const res = await createObject(kc, child, ns, { dryRun: true })
          t.equal(res.status, 201, `dry-run create ${child.kind}/${child.metadata.name}${res.status === 201 ? '' : `: REFUSED: ${messageOf(res)}`}`)
          t.notOk(res.headers.warning, `${child.kind}/${child.metadata.name}: no warnings${res.headers.warning ? `: ${String(res.headers.warning)}` : ''}`)
        }
        for (const child of children) {
          const res = await createObject(kc, child, ns)
          t.equal(res.status, 201, `create ${child.kind}/${child.metadata.name}${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
        }

        // (a) every child exists, as rendered, in the parent's namespace.
        const live: Json[] = []
        for (const child of children) {
          t.equal(child.metadata.namespace ?? ns, ns, `${child.kind}/${child.metadata.name} is in the parent's namespace`)
          const res = await call(kc, 'GET', await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name))
          if (t.equal(res.status, 200, `${child.kind}/${child.metadata.name} exists`)) live.push(res.body)
          t.ok(selects(parentSelector, child.metadata.labels), `${child.kind}/${child.metadata.name} carries the parent's selector labels`)
        }
        const names = children.map((c) => `${c.kind}/${c.metadata.name}`)
        t.equal(new Set(names).size, names.length, 'child kind/name pairs are unique')

        // (b) workloads: selector = template labels subset = parent's status.selector.
        const workloads = live.filter((o) => WORKLOAD_KINDS.has(o.kind))
        t.equal(workloads.length, 1, 'one workload')
        const workload = workloads[0]
        if (!workload) return
        const matchLabels = workload.spec.selector.matchLabels as Record<string, string>
        const podLabels = workload.spec.template.metadata.labels as Record<string, string>
        t.notOk(workload.spec.selector.matchExpressions, `${workload.kind}: selector uses matchLabels only`)
        t.ok(selects(matchLabels, podLabels), `${workload.kind}: selector matches its pod template labels`)
        t.same(matchLabels, parentSelector, `${workload.kind}: selector equals the parent's status.selector (${selectorText})`)
        t.equal(workload.spec.replicas, stored.spec && (stored.spec as Json).replicas, `${workload.kind}: replicas = spec.replicas`)

        // Container ports: IANA service names (<= 15 chars), unique per pod.
        const podSpec = workload.spec.template.spec as Json
        const containers: Json[] = [...(podSpec.initContainers ?? []), ...podSpec.containers]
        const portNames = containers.flatMap((c) => (c.ports ?? []).map((p: Json) => p.name as string).filter(Boolean))
        for (const name of portNames) t.ok(name.length <= 15, `container port name ${name} has at most 15 characters`)
        t.equal(new Set(portNames).size, portNames.length, 'container port names are unique in the pod')

        const replicas = (workload.spec.replicas ?? 1) as number
        const podNames = Array.from({ length: replicas }, (_, i) => `${workload.metadata.name}-${i}`)
        /** Labels a pod of the workload will have (the StatefulSet controller adds pod-name). */
        const podLabelSets: Record<string, string>[] =
          workload.kind === 'StatefulSet' && replicas > 0 ? podNames.map((n) => ({ ...podLabels, [LABEL_POD_NAME]: n })) : [podLabels]

        // (c) PDBs select exactly the workload's pods.
        for (const pdb of live.filter((o) => o.kind === 'PodDisruptionBudget')) {
          t.same(pdb.spec.selector, workload.spec.selector, `PodDisruptionBudget/${pdb.metadata.name}: selector equals the workload's`)
        }
        if (replicas > 1)
          t.ok(
            live.some((o) => o.kind === 'PodDisruptionBudget'),
            'more than one replica: a PodDisruptionBudget exists',
          )

        // (d) Services select pods of the workload, and target ports the pods have.
        for (const svc of live.filter((o) => o.kind === 'Service')) {
          const id = `Service/${svc.metadata.name}`
          const selector = svc.spec.selector as Record<string, string> | undefined
          if (!t.ok(selector && Object.keys(selector).length > 0, `${id} has a selector`)) continue
          if (replicas > 0 || !(LABEL_POD_NAME in selector!)) {
            t.ok(
              podLabelSets.some((labels) => selects(selector!, labels)),
              `${id} selects pods of ${workload.kind}/${workload.metadata.name}`,
            )
          }
          for (const port of (svc.spec.ports ?? []) as Json[]) {
            // a headless Service may have none
            if (typeof port.targetPort === 'string') {
              t.ok(portNames.includes(port.targetPort), `${id}: targetPort ${port.targetPort} is a container port name`)
            }
          }
        }
        if (workload.kind === 'StatefulSet') {
          const governing = live.find((o) => o.kind === 'Service' && o.metadata.name === workload.spec.serviceName)
          t.ok(governing, `StatefulSet serviceName ${workload.spec.serviceName} is one of the children`)
          t.equal(governing?.spec.clusterIP, 'None', 'the governing Service is headless')
        }
      })
    }
  })
}
