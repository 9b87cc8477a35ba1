// Every object the Helm chart renders (default values and each ci/*-values.yaml) passes a
// server-side dry-run create, with strict field validation, in namespace monero-operator on
// a real kube-apiserver. Metacontroller's and the Prometheus operator's CRDs are not ours, so
// minimal stand-ins (any spec accepted) are installed first; what they check is that the
// objects are well-formed Kubernetes objects of a served kind, not their spec.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { CHART_DIR, findHelm, HELM_MISSING, NAMESPACE, renderChart } from '../../charts/helm.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { binariesAvailable, isCI, pinnedKubernetesVersion, setupControlPlane } from './control-plane.js'
import { applyObjects, waitForCrdsEstablished } from './manifests.js'
import { createObject, ensureNamespace, messageOf } from './kube.js'

/** A CRD that accepts any spec: stands in for a third-party CRD we do not ship. */
function looseCrd(group: string, kind: string, plural: string, version: string): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${group}`,
      // *.k8s.io groups are protected; Metacontroller's own CRDs carry the same annotation.
      ...(group.endsWith('.k8s.io') ? { annotations: { 'api-approved.kubernetes.io': 'unapproved, request not yet submitted' } } : {}),
    },
    spec: {
      group,
      scope: kind === 'CompositeController' ? 'Cluster' : 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {} },
        },
      ],
    },
  } as KubeObject
}

const STAND_INS = [
  looseCrd('metacontroller.k8s.io', 'CompositeController', 'compositecontrollers', 'v1alpha1'),
  looseCrd('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors', 'v1'),
  looseCrd('monitoring.coreos.com', 'PodMonitor', 'podmonitors', 'v1'),
  looseCrd('monitoring.coreos.com', 'PrometheusRule', 'prometheusrules', 'v1'),
]

const ciDir = join(CHART_DIR, 'ci')
const scenarios: [string, string[]][] = [
  ['default values', []],
  ...readdirSync(ciDir)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f): [string, string[]] => [`ci/${f}`, ['-f', join(ciDir, f)]]),
]

const helmBin = findHelm()
if (!helmBin) {
  if (isCI()) t.fail(`${HELM_MISSING} (CI is set, so this is a failure, not a skip)`)
  else t.plan(0, HELM_MISSING)
} else if (binariesAvailable(t)) {
  t.test('every object the chart renders passes a dry-run create', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    await applyObjects(kc, STAND_INS as unknown as Parameters<typeof applyObjects>[1])
    await waitForCrdsEstablished(
      kc,
      STAND_INS.map((c) => c.metadata.name),
    )
    await ensureNamespace(kc, NAMESPACE)
    const kubeVersion = pinnedKubernetesVersion().replace(/^v/, '')

    for (const [name, args] of scenarios) {
      await t.test(name, async (t) => {
        const objects = renderChart(helmBin, [...args, '--kube-version', kubeVersion]) as unknown as KubeObject[]
        t.ok(objects.length > 0, `${objects.length} objects rendered`)
        for (const object of objects) {
          const id = `${object.kind}/${object.metadata.name}`
          t.ok(!object.metadata.namespace || object.metadata.namespace === NAMESPACE, `${id}: in ${NAMESPACE} or cluster-scoped`)
          let res: Awaited<ReturnType<typeof createObject>>
          try {
            res = await createObject(kc, object, object.metadata.namespace ?? NAMESPACE, { dryRun: true })
          } catch (err) {
            t.fail(`${id}: ${(err as Error).message}`) // a kind the apiserver does not serve
            continue
          }
          t.equal(res.status, 201, `dry-run create ${id}${res.status === 201 ? '' : `: REFUSED: ${messageOf(res)}`}`)
          t.notOk(res.headers.warning, `${id}: no warnings${res.headers.warning ? `: ${String(res.headers.warning)}` : ''}`)
        }
      })
    }
  })
}
