// `kubectl kustomize charts/kustomize` installs the same objects as the chart's defaults,
// and its Deployment is the chart's Deployment without the Helm bookkeeping.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { repoPath } from '../hooks/paths.js'
import { findHelm, HELM_MISSING, parseObjects, renderChart, type K8sObject } from './helm.js'

const KUSTOMIZE_DIR = repoPath('charts', 'kustomize')
/** What the chart renders with default values that kustomize deliberately leaves out. */
const HELM_ONLY = new Set(['Secret/monero-operator-key-seed'])
/** What kustomize adds that the chart leaves to `helm install --create-namespace`. */
const KUSTOMIZE_ONLY = new Set(['Namespace/monero-operator'])

/** Manifests (not kustomizations) in a folder. */
const manifests = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f))
    .sort()

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0

/** Renders charts/kustomize as `kubectl apply -k charts/kustomize` would. */
function renderKustomize(_t: Test): K8sObject[] {
  return parseObjects(execFileSync('kubectl', ['kustomize', KUSTOMIZE_DIR], { encoding: 'utf8' }))
}

t.test('kustomizations of crds/ and metacontroller/ list every manifest', async (t) => {
  // crds/ names its kustomization `Kustomization` so that `kubectl apply -f crds/` reads CRDs only
  for (const [dir, name] of [
    ['crds', 'Kustomization'],
    ['metacontroller', 'kustomization.yaml'],
  ] as const) {
    const file = repoPath(dir, name)
    t.ok(existsSync(file), `${dir}/${name} exists`)
    const k = parse(readFileSync(file, 'utf8')) as { resources?: string[] }
    t.same([...(k.resources ?? [])].sort(), manifests(repoPath(dir)), `${dir}/${name} lists every manifest in ${dir}/`)
  }
  t.notOk(existsSync(repoPath('crds', 'kustomization.yaml')), 'no crds/kustomization.yaml: `kubectl apply -f crds/` would read it')
})

if (!kubectl) {
  if (process.env.CI) t.fail('kubectl not found (it renders charts/kustomize)')
  else t.pass('kustomize tests', { skip: 'SKIPPED: kubectl not found (it renders charts/kustomize)' })
} else {
  const helm = findHelm()
  t.test('kustomize renders valid, namespaced objects', async (t) => {
    const objs = renderKustomize(t)
    t.ok(objs.length > 0, 'renders objects')
    for (const o of objs) {
      if (['Namespace', 'CustomResourceDefinition', 'CompositeController'].includes(o.kind)) continue
      t.equal(o.metadata.namespace, 'monero-operator', `${o.kind}/${o.metadata.name} in monero-operator`)
    }
    t.notOk(
      objs.some((o) => /Role/.test(o.kind)),
      'no RBAC',
    )
  })

  if (!helm) {
    if (process.env.CI) t.fail(`${HELM_MISSING} (CI is set, so this is an error)`)
    else t.pass('kustomize-vs-chart comparison', { skip: `SKIPPED: ${HELM_MISSING}` })
  } else {
    t.test('kustomize and the chart defaults install the same objects', async (t) => {
      const kustomized = renderKustomize(t)
      const charted = renderChart(helm)
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`
      const fromChart = charted
        .map(key)
        .filter((k) => !HELM_ONLY.has(k))
        .sort()
      const fromKustomize = kustomized
        .map(key)
        .filter((k) => !KUSTOMIZE_ONLY.has(k))
        .sort()
      t.same(
        fromKustomize,
        fromChart,
        `same (kind, name) set, except Helm-only ${[...HELM_ONLY].join(', ')} and kustomize-only ${[...KUSTOMIZE_ONLY].join(', ')}`,
      )

      // The Deployment, Service, PDB and ServiceAccount specs are the chart's, minus Helm's
      // bookkeeping labels and annotations.
      const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'app.kubernetes.io/part-of']
      const normalize = (o: K8sObject): unknown => {
        const c = structuredClone(o) as K8sObject & { spec?: any }
        const clean = (m?: { labels?: Record<string, string>; annotations?: Record<string, string> }) => {
          if (!m) return
          for (const l of HELM_LABELS) delete m.labels?.[l]
          delete m.annotations?.['checksum/config']
          if (m.annotations && Object.keys(m.annotations).length === 0) delete m.annotations
        }
        clean(c.metadata)
        clean(c.spec?.template?.metadata)
        return c
      }
      for (const k of ['Deployment/monero-operator', 'Service/monero-operator', 'PodDisruptionBudget/monero-operator', 'ServiceAccount/monero-operator']) {
        const a = kustomized.find((o) => key(o) === k)
        const b = charted.find((o) => key(o) === k)
        t.same(a && normalize(a), b && normalize(b), `${k} equals the chart's`)
      }
      // The CompositeControllers differ only in Helm's labels: both call monero-operator/monero-operator:80.
      for (const cc of kustomized.filter((o) => o.kind === 'CompositeController')) {
        const other = charted.find((o) => key(o) === key(cc)) as K8sObject & { spec: unknown }
        t.same((cc as K8sObject & { spec: unknown }).spec, other?.spec, `${key(cc)} spec equals the chart's`)
      }
    })
  }
}
