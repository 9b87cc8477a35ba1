// Every CRD in crds/ installs on a real kube-apiserver, is structural and becomes
// Established; every example in examples/ is accepted as written (our kinds created for
// real, with strict field validation as `kubectl apply` sends it; the HPA as a dry run).
import t from 'tap'
import { ApiextensionsV1Api } from '@kubernetes/client-node'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import { installCrds, readManifests } from './manifests.js'
import { createObject, crdFiles, ensureNamespace, exampleObjects, messageOf, OUR_API_VERSION } from './kube.js'

if (binariesAvailable(t)) {
  t.test('CRDs and examples on a real apiserver', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const files = crdFiles()
    t.ok(files.length >= 3, `crds/ holds the CRDs (${files.length} files)`)

    // One CRD at a time, so one the apiserver refuses does not hide the verdict on the others.
    const names: string[] = []
    const installedKinds = new Set<string>()
    for (const file of files) {
      for (const crd of readManifests(file)) {
        const name = crd.metadata?.name ?? '?'
        try {
          await installCrds(kc, [file])
          names.push(name)
          installedKinds.add((crd as { spec?: { names?: { kind?: string } } }).spec?.names?.kind ?? '?')
          t.pass(`${name} is accepted and Established`)
        } catch (err) {
          t.fail(`${name} (${file}) is refused by kube-apiserver: ${(err as Error).message}`)
        }
      }
    }

    const api = kc.makeApiClient(ApiextensionsV1Api)
    for (const name of names) {
      const crd = await api.readCustomResourceDefinition({ name })
      const conditions = crd.status?.conditions ?? []
      const status = (type: string) => conditions.find((c) => c.type === type)?.status
      t.equal(status('Established'), 'True', `${name}: Established`)
      t.equal(status('NamesAccepted'), 'True', `${name}: NamesAccepted`)
      t.same(
        conditions.filter((c) => c.type === 'NonStructuralSchema'),
        [],
        `${name}: structural (no NonStructuralSchema condition)`,
      )
      t.same(crd.status?.storedVersions, ['v1alpha1'], `${name}: stores v1alpha1`)
    }

    const ns = 'examples'
    await ensureNamespace(kc, ns)
    const examples = exampleObjects()
    t.ok(
      examples.some((e) => e.object.apiVersion === OUR_API_VERSION),
      'examples/ has resources of our kinds',
    )
    for (const { file, object } of examples) {
      const label = `${file}: ${object.kind}/${object.metadata.name}`
      if (object.apiVersion === OUR_API_VERSION) {
        if (!installedKinds.has(object.kind)) {
          t.fail(`${label}: cannot be tried, the ${object.kind} CRD did not install`)
          continue
        }
        const res = await createObject(kc, object, ns)
        t.equal(res.status, 201, `${label} is created as written${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
        t.notOk(res.headers.warning, `${label}: no warnings${res.headers.warning ? `: ${String(res.headers.warning)}` : ''}`)
        // Nothing the user wrote was pruned: the stored spec contains the example's spec.
        t.match(res.body?.spec, object.spec, `${label}: stored spec keeps every field written`)
      } else if (object.apiVersion === 'autoscaling/v2') {
        const res = await createObject(kc, object, ns, { dryRun: true })
        t.equal(res.status, 201, `${label} passes a dry-run create${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
      } else {
        t.fail(`${label}: apiVersion ${object.apiVersion} is neither ours nor autoscaling/v2; teach crds.test.ts about it`)
      }
    }
  })
}
