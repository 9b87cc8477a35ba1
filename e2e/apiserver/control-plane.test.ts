// Smoke test of the real-apiserver tier itself: the control plane starts, serves the
// core and apps APIs to the admin user over verified TLS, and stops cleanly.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node'
import { binariesAvailable, setupControlPlane, startControlPlane } from './control-plane.js'
import { applyObjects, installCrds, readManifests } from './manifests.js'

if (binariesAvailable(t)) {
  t.test('control plane serves the API and cleans up', async (t) => {
    const cp = await startControlPlane({ log: (m) => t.comment(m) })
    let stopped = false
    t.teardown(() => (stopped ? undefined : cp.stop()))

    t.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback')
    t.notOk(cp.kubeConfig.getCurrentCluster()?.skipTLSVerify, 'kubeconfig verifies the serving certificate')
    const core = cp.kubeConfig.makeApiClient(CoreV1Api)
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api)

    const before = await core.listNamespace()
    const names = before.items.map((ns) => ns.metadata?.name)
    t.ok(names.includes('default'), 'default namespace exists')
    t.ok(names.includes('kube-system'), 'kube-system namespace exists')

    await core.createNamespace({ body: { metadata: { name: 'smoke' } } })
    const ns = await core.readNamespace({ name: 'smoke' })
    t.equal(ns.status?.phase, 'Active', 'created namespace is Active')

    const deployment: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'smoke' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
        },
      },
    }
    const dryRun = await apps.createNamespacedDeployment({ namespace: 'smoke', body: deployment, dryRun: 'All' })
    t.equal(dryRun.spec?.replicas, 2, 'dry-run returns the object')
    t.equal(dryRun.spec?.strategy?.type, 'RollingUpdate', 'apiserver defaulting ran')
    t.equal(dryRun.spec?.template.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent', 'container defaults applied')
    const listed = await apps.listNamespacedDeployment({ namespace: 'smoke' })
    t.equal(listed.items.length, 0, 'dry-run persisted nothing')

    await t.rejects(
      apps.createNamespacedDeployment({
        namespace: 'smoke',
        body: { ...deployment, spec: { ...deployment.spec!, selector: { matchLabels: { app: 'other' } } } },
        dryRun: 'All',
      }),
      'validation rejects a selector that does not match the template',
    )

    await cp.stop()
    stopped = true
    t.notOk(existsSync(cp.dir), 'run directory removed')
    await t.rejects(core.listNamespace(), 'apiserver is gone after stop()')
  })

  t.test('several control planes can run side by side', async (t) => {
    const [a, b] = await Promise.all([setupControlPlane(t), setupControlPlane(t)])
    t.not(a.server, b.server, 'distinct ports')
    await a.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'only-in-a' } } })
    const inB = await b.kubeConfig.makeApiClient(CoreV1Api).listNamespace()
    t.notOk(
      inB.items.some((ns) => ns.metadata?.name === 'only-in-a'),
      'each control plane has its own etcd',
    )
  })

  t.test('manifests.ts installs a CRD and applies a custom resource', async (t) => {
    const cp = await setupControlPlane(t)
    const dir = t.testdir({
      'crd.yaml': [
        'apiVersion: apiextensions.k8s.io/v1',
        'kind: CustomResourceDefinition',
        'metadata: {name: widgets.example.test}',
        'spec:',
        '  group: example.test',
        '  scope: Namespaced',
        '  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}',
        '  versions:',
        '  - name: v1',
        '    served: true',
        '    storage: true',
        '    schema:',
        '      openAPIV3Schema:',
        '        type: object',
        '        properties:',
        '          spec:',
        '            type: object',
        '            properties: {size: {type: integer, minimum: 1, default: 3}}',
        '',
      ].join('\n'),
    })
    t.same(await installCrds(cp.kubeConfig, [join(dir, 'crd.yaml')]), ['widgets.example.test'])
    writeFileSync(join(dir, 'widget.yaml'), 'apiVersion: example.test/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n---\n')
    const [stored] = await applyObjects(cp.kubeConfig, readManifests(join(dir, 'widget.yaml')), { namespace: 'default' })
    t.match(stored, { metadata: { name: 'w', namespace: 'default' }, spec: { size: 3 } }, 'stored with schema default')
    await t.rejects(
      applyObjects(cp.kubeConfig, [
        { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'bad', namespace: 'default' }, spec: { size: 0 } } as never,
      ]),
      'schema validation rejects size 0',
    )
  })
}
