// Scenario (a): our chart installs the hook server as real pods (local image, hook auth and
// NetworkPolicy on, as a user would set them), in a namespace that enforces the restricted
// Pod Security Standard, and the pods pass their probes.
import t from 'tap'
import { OPERATOR_NS, RELEASE, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any>

const env = scenarioEnv(t)
if (env) {
  t.test('chart install: hook pods Ready under the restricted Pod Security Standard', async (t) => {
    const s = await setupScenario(t, env, 'chart')
    const ns = await s.get(`/api/v1/namespaces/${OPERATOR_NS}`)
    t.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', `namespace ${OPERATOR_NS} enforces the restricted Pod Security Standard`)

    const deploy = await s.waitFor(
      'the hook Deployment available',
      async () => {
        const d = await s.get(`/apis/apps/v1/namespaces/${OPERATOR_NS}/deployments/${RELEASE}`)
        return d.status?.readyReplicas === d.spec.replicas && d.status?.updatedReplicas === d.spec.replicas && d
      },
      180,
    )
    t.ok(deploy.spec.replicas >= 1, `${deploy.spec.replicas} replicas wanted`)
    if (env.operatorImage) t.equal(deploy.spec.template.spec.containers[0].image, env.operatorImage, 'runs the locally built image')

    const pods = (await s.get(`/api/v1/namespaces/${OPERATOR_NS}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${RELEASE}`)}`))
      .items as Json[]
    const hookPods = pods.filter((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')
    t.equal(hookPods.length, deploy.spec.replicas, 'one pod per replica')
    for (const pod of hookPods) {
      t.ok(podReady(pod), `${pod.metadata.name} Ready (readiness probe passes)`)
      const c = pod.spec.containers[0]
      t.ok(c.readinessProbe && c.livenessProbe, `${pod.metadata.name}: probes declared`)
      const restarts = (pod.status.containerStatuses as Json[]).reduce((n, cs) => n + cs.restartCount, 0)
      t.equal(restarts, 0, `${pod.metadata.name}: no restarts (liveness and startup probes pass)`)
      t.equal(pod.spec.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot, true, `${pod.metadata.name}: runAsNonRoot`)
      t.same(c.securityContext?.capabilities?.drop, ['ALL'], `${pod.metadata.name}: all capabilities dropped`)
      t.equal(
        c.env?.some((e: Json) => e.name === 'HOOK_BEARER_TOKEN_FILE'),
        true,
        `${pod.metadata.name}: hook auth on`,
      )
    }
    const policies = (await s.get(`/apis/networking.k8s.io/v1/namespaces/${OPERATOR_NS}/networkpolicies`)).items as Json[]
    t.ok(
      policies.some((p) => p.metadata.name === RELEASE),
      'NetworkPolicy installed',
    )

    const ccs = (await s.get('/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers')).items as Json[]
    const ours = ccs.filter((c) => /\.utxo\.com\.br$/.test(c.metadata.name))
    t.equal(ours.length, 3, 'three CompositeControllers')
    for (const cc of ours) t.ok(cc.spec.hooks.sync.webhook.authorization?.secretRef?.name, `${cc.metadata.name}: webhook authorization declared`)

    if (env.hookAccess.kind === 'cluster-ip') {
      // The hook refuses a sync without the token (the driver's syncs carry it).
      const svc = await s.get(`/api/v1/namespaces/${OPERATOR_NS}/services/${RELEASE}`)
      const res = await fetch(`http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}/hooks/moneronodeset/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(10_000),
      })
      t.equal(res.status, 401, 'a sync without the bearer token is refused with 401')
    }
  })
}
