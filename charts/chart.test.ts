// The Helm chart, rendered by the pinned Helm: lint, every object valid against the
// Kubernetes schemas, the hardening a platform reviewer checks, CRDs identical to crds/,
// CompositeControllers identical to metacontroller/ except for the webhook target.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { isMap, isPair, isScalar, parse, parseDocument, type YAMLMap } from 'yaml'
import { HANDLERS } from '../hooks/handlers.js'
import { repoPath } from '../hooks/paths.js'
import { CHART_DIR, findHelm, helm, HELM_MISSING, NAMESPACE, RELEASE, renderChart, validateObject, type K8sObject } from './helm.js'

type Obj = K8sObject & { spec?: any; data?: Record<string, string> }

const ciDir = join(CHART_DIR, 'ci')
const scenarios: [string, string[]][] = [
  ['default values', []],
  ...readdirSync(ciDir)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f): [string, string[]] => [`ci/${f}`, ['-f', join(ciDir, f)]]),
]

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'])

const find = (objs: Obj[], kind: string, name?: string): Obj | undefined =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))
const all = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind)

/** Parsed manifests of a folder (one object per .yaml file, except kustomizations). */
function folderObjects(dir: string): { file: string; obj: Obj }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .map((file) => ({ file, obj: parse(readFileSync(join(dir, file), 'utf8')) as Obj }))
}

// ---- checks that need no helm ----------------------------------------------------------

t.test('chart crds/ and controllers/ are the repository folders, not copies', async (t) => {
  t.equal(readlinkSync(join(CHART_DIR, 'crds')), '../../crds', 'crds is a symlink to ../../crds')
  t.equal(readlinkSync(join(CHART_DIR, 'controllers')), '../../metacontroller', 'controllers is a symlink to ../../metacontroller')
})

t.test('every value in values.yaml is commented and described in values.schema.json', async (t) => {
  const doc = parseDocument(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'))
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode
  interface SchemaNode {
    description?: string
    properties?: Record<string, SchemaNode>
  }
  const walk = (map: YAMLMap, node: SchemaNode, path: string, parentComment: boolean) => {
    map.items.forEach((pair, i) => {
      if (!isPair(pair) || !isScalar(pair.key)) return
      const key = String(pair.key.value)
      const p = path ? `${path}.${key}` : key
      const sub = node.properties?.[key]
      t.ok(sub, `${p} is declared in values.schema.json`)
      t.ok(sub?.description, `${p} has a description in values.schema.json`)
      const commented = Boolean(pair.key.commentBefore) || (i === 0 && (parentComment || Boolean(map.commentBefore)))
      // Groups (maps whose children are documented one by one) may go without a comment.
      const isGroup = isMap(pair.value) && sub?.properties !== undefined
      if (!isGroup) t.ok(commented, `${p} has a comment in values.yaml`)
      if (isMap(pair.value) && sub?.properties) walk(pair.value, sub, p, Boolean(pair.key.commentBefore))
    })
  }
  t.ok(isMap(doc.contents), 'values.yaml is a map')
  walk(doc.contents as YAMLMap, schema, '', false)
})

// ---- checks that need helm -------------------------------------------------------------

const bin = findHelm()
if (!bin) {
  if (process.env.CI) t.fail(`${HELM_MISSING} (CI is set, so this is an error)`)
  else t.pass('chart rendering tests', { skip: `SKIPPED: ${HELM_MISSING}` })
} else {
  const rendered = new Map<string, Obj[]>()
  for (const [name, args] of scenarios) rendered.set(name, renderChart(bin, args) as Obj[])
  const defaults = rendered.get('default values') as Obj[]

  for (const [name, args] of scenarios) {
    t.test(`${name}: helm lint --strict`, async (t) => {
      const out = helm(bin, ['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...args])
      t.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/)
    })

    t.test(`${name}: rendered objects`, async (t) => {
      const objs = rendered.get(name) as Obj[]
      t.ok(objs.length > 0, 'renders objects')
      for (const o of objs) {
        await t.resolves(validateObject(o), `${o.kind}/${o.metadata.name} is valid`)
        t.notOk(RBAC_KINDS.has(o.kind), `${o.kind}/${o.metadata.name}: no RBAC at all`)
      }
      const keys = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
      t.equal(new Set(keys).size, keys.length, 'no duplicate objects')

      const dep = find(objs, 'Deployment') as Obj
      t.ok(dep, 'has the hook server Deployment')
      const pod = dep.spec.template.spec
      const c = pod.containers[0]
      t.equal(pod.containers.length, 1, 'one container')
      t.ok(dep.spec.replicas >= 2, 'at least 2 replicas')
      t.equal(pod.automountServiceAccountToken, false, 'no API token in the pod')
      t.equal(pod.securityContext.runAsNonRoot, true, 'pod runAsNonRoot')
      t.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault', 'seccomp RuntimeDefault')
      t.equal(c.securityContext.readOnlyRootFilesystem, true, 'read-only root filesystem')
      t.equal(c.securityContext.allowPrivilegeEscalation, false, 'no privilege escalation')
      t.same(c.securityContext.capabilities?.drop, ['ALL'], 'drops all capabilities')
      t.notOk(c.securityContext.privileged, 'not privileged')
      t.equal(c.startupProbe?.httpGet?.path, '/healthz', 'startup probe on /healthz')
      t.equal(c.livenessProbe?.httpGet?.path, '/healthz', 'liveness probe on /healthz')
      t.equal(c.readinessProbe?.httpGet?.path, '/readyz', 'readiness probe on /readyz')
      t.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, 'resources set')
      t.ok(
        pod.topologySpreadConstraints?.some((s: any) => s.topologyKey === 'kubernetes.io/hostname'),
        'spread across nodes',
      )
      t.ok(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length, 'preferred anti-affinity')
      t.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0, 'rollouts never drop below the desired count')

      const env = new Map<string, string>((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]))
      t.equal(env.get('OPERATOR_IMAGE'), c.image, "OPERATOR_IMAGE is the chart's own image")
      t.equal(env.get('PORT'), String(c.ports[0].containerPort), 'PORT matches the container port')
      const seedFile = env.get('KEY_SEED_FILE') as string
      const seedMount = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) => seedFile.startsWith(`${m.mountPath}/`))
      t.ok(seedMount, 'KEY_SEED_FILE is inside a mounted volume')
      const seedVolume = (pod.volumes as any[]).find((v) => v.name === seedMount?.name)
      t.equal(seedVolume?.secret?.items?.[0]?.path, seedFile.slice((seedMount?.mountPath.length ?? 0) + 1), 'the seed key is the mounted file')
      const seedSecret = find(objs, 'Secret', seedVolume?.secret?.secretName)
      if (seedSecret) {
        t.equal(seedSecret.metadata.annotations?.['helm.sh/resource-policy'], 'keep', 'uninstall keeps the key seed')
        const value = Buffer.from(seedSecret.data?.[seedVolume.secret.items[0].key] ?? '', 'base64').toString()
        t.match(value, /^[A-Za-z0-9]{64}$/, 'seed is 64 random characters')
      }

      const sa = find(objs, 'ServiceAccount')
      if (sa) t.equal(sa.automountServiceAccountToken, false, 'ServiceAccount does not automount its token')
      t.equal(pod.serviceAccountName, sa?.metadata.name ?? pod.serviceAccountName, 'pods use the chart ServiceAccount')

      const svc = find(objs, 'Service') as Obj
      t.same(svc.spec.selector, dep.spec.selector.matchLabels, 'Service selects the hook pods')
      const pdb = find(objs, 'PodDisruptionBudget') as Obj
      t.same(pdb.spec.selector.matchLabels, dep.spec.selector.matchLabels, 'PDB selects the hook pods')

      for (const o of objs) {
        if (o.kind === 'CustomResourceDefinition' || o.kind === 'CompositeController') continue
        if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboards')) continue
        t.equal(o.metadata.namespace, NAMESPACE, `${o.kind}/${o.metadata.name} is in the release namespace`)
      }

      // CompositeControllers point at this release.
      const auth = env.has('HOOK_BEARER_TOKEN_FILE')
      for (const cc of all(objs, 'CompositeController')) {
        for (const [hookName, hook] of Object.entries(cc.spec.hooks as Record<string, any>)) {
          const wh = hook.webhook
          t.same(
            wh.service,
            { name: svc.metadata.name, namespace: NAMESPACE, port: svc.spec.ports[0].port, protocol: 'http' },
            `${cc.metadata.name} ${hookName} calls this release's Service`,
          )
          t.notOk(wh.url, `${cc.metadata.name} ${hookName}: no url overriding the service`)
          if (auth) {
            const tokenFile = env.get('HOOK_BEARER_TOKEN_FILE') as string
            const tokenMount = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) => tokenFile.startsWith(`${m.mountPath}/`))
            const tokenVolume = (pod.volumes as any[]).find((v) => v.name === tokenMount?.name)
            t.same(
              wh.authorization,
              {
                type: 'Bearer',
                secretRef: { name: tokenVolume?.secret?.secretName, namespace: NAMESPACE, key: tokenVolume?.secret?.items?.[0]?.key },
              },
              `${cc.metadata.name} ${hookName} sends the token the hooks check`,
            )
          } else {
            t.notOk(wh.authorization, `${cc.metadata.name} ${hookName}: no authorization when hookAuth is off`)
          }
        }
      }
    })
  }

  t.test('default values: exactly the expected objects', async (t) => {
    const crdNames = folderObjects(repoPath('crds')).map(({ obj }) => `CustomResourceDefinition/${obj.metadata.name}`)
    const ccNames = folderObjects(repoPath('metacontroller'))
      .filter(({ obj }) => obj.kind === 'CompositeController')
      .map(({ obj }) => `CompositeController/${obj.metadata.name}`)
    const expected = [
      ...crdNames,
      ...ccNames,
      `ServiceAccount/${RELEASE}`,
      `Secret/${RELEASE}-key-seed`,
      `Service/${RELEASE}`,
      `Deployment/${RELEASE}`,
      `PodDisruptionBudget/${RELEASE}`,
    ].sort()
    t.same(defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort(), expected)
  })

  t.test('chart CRDs are crds/ byte for byte', async (t) => {
    const shown = helm(bin, ['show', 'crds', CHART_DIR])
    // crds/Kustomization (for `kubectl apply -k`) has no .yaml extension and is .helmignored
    const files = readdirSync(repoPath('crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
    t.ok(files.length > 0, 'crds/ has CRDs')
    // `helm show crds` prints the chart's CRD files verbatim, in file-name order, each
    // followed by a newline: the chart serves exactly the bytes of crds/.
    const expected = files.map((f) => `${readFileSync(repoPath('crds', f), 'utf8')}\n`).join('')
    t.equal(shown, expected, `chart CRDs == crds/{${files.join(',')}} byte for byte`)
    const renderedCrds = all(defaults, 'CustomResourceDefinition')
    for (const { file, obj } of folderObjects(repoPath('crds'))) {
      t.same(
        renderedCrds.find((o) => o.metadata.name === obj.metadata.name),
        obj,
        `rendered ${file} equals crds/${file}`,
      )
    }
  })

  t.test('CompositeControllers equal metacontroller/ except for the webhook target', async (t) => {
    const rendered = all(defaults, 'CompositeController')
    const sources = folderObjects(repoPath('metacontroller')).filter(({ obj }) => obj.kind === 'CompositeController')
    t.ok(sources.length > 0, 'metacontroller/ has CompositeControllers')
    t.equal(rendered.length, sources.length, 'one per file in metacontroller/')
    for (const { file, obj } of sources) {
      const got = rendered.find((o) => o.metadata.name === obj.metadata.name)
      t.ok(got, `${file} is rendered`)
      if (!got) continue
      const strip = (spec: any) => {
        const copy = structuredClone(spec)
        for (const hook of Object.values(copy.hooks ?? {}) as any[]) {
          delete hook.webhook.service
          delete hook.webhook.url
          delete hook.webhook.authorization
        }
        return copy
      }
      t.same(strip(got.spec), strip(obj.spec), `${file}: childResources, parentResource, hooks, resync equal`)
      t.same(got.spec.childResources, obj.spec.childResources, `${file}: childResources equal`)
      for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) t.equal(got.metadata.labels?.[k], v, `${file}: keeps label ${k}`)
    }
    for (const h of HANDLERS) {
      const cc = rendered.find((o) => o.spec.parentResource.resource === h.plural)
      t.ok(cc, `${h.kind} (hooks/handlers.ts) has a CompositeController`)
      if (!cc) continue
      const declared = (cc.spec.childResources as { apiVersion: string; resource: string }[]).map((r) => `${r.apiVersion} ${r.resource}`)
      for (const r of h.childResources) t.ok(declared.includes(`${r.apiVersion} ${r.resource}`), `${h.kind}: ${r.resource} declared`)
      t.equal(cc.spec.hooks.sync.webhook.path, `/hooks/${h.route}/sync`, `${h.kind}: sync path is the hook route`)
    }
  })

  t.test('key seed Secret keeps its value on upgrade (lookup) and ignores it when given', async (t) => {
    const tpl = readFileSync(join(CHART_DIR, 'templates', '_helpers.tpl'), 'utf8')
    t.match(tpl, /lookup "v1" "Secret"/, 'looks the existing Secret up')
    const a = find(defaults, 'Secret', `${RELEASE}-key-seed`)?.data?.seed
    const again = find(renderChart(bin) as Obj[], 'Secret', `${RELEASE}-key-seed`)?.data?.seed
    t.not(a, again, 'helm template (no cluster) generates a fresh seed each time: only lookup keeps it')
    const existing = rendered.get('ci/existing-secrets-values.yaml')
    if (existing) {
      t.equal(all(existing, 'Secret').length, 0, 'no Secret created when both are given')
      const pod = (find(existing, 'Deployment') as Obj).spec.template.spec
      t.ok(
        pod.volumes.some((v: any) => v.secret?.secretName === 'restored-key-seed'),
        'mounts the existing key seed',
      )
      t.equal(find(existing, 'PodDisruptionBudget')?.spec.maxUnavailable, 1, 'PDB by maxUnavailable')
      t.notOk(find(existing, 'PodDisruptionBudget')?.spec.minAvailable, 'and not minAvailable')
    }
  })

  t.test('hardened values: NetworkPolicy admits only Metacontroller and the scraper', async (t) => {
    const objs = rendered.get('ci/hardened-values.yaml')
    if (!objs) return t.pass('no ci/hardened-values.yaml', { skip: true })
    const np = find(objs, 'NetworkPolicy') as Obj
    t.ok(np, 'NetworkPolicy rendered')
    t.same(np.spec.policyTypes, ['Ingress', 'Egress'], 'ingress and egress restricted')
    t.same(np.spec.egress, [], 'no egress')
    t.same(
      np.spec.ingress[0].from,
      [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'metacontroller' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'metacontroller' } },
        },
      ],
      'first rule: Metacontroller pods in its namespace (one peer: namespace AND pod)',
    )
    t.equal(np.spec.ingress.length, 2, 'second rule: the metrics scraper')
    t.same(np.spec.podSelector.matchLabels, (find(objs, 'Deployment') as Obj).spec.selector.matchLabels, 'applies to the hook pods')
    const dep = find(objs, 'Deployment') as Obj
    t.match(dep.spec.template.spec.containers[0].image, /@sha256:[0-9a-f]{64}$/, 'image pinned by digest')
    t.ok(find(objs, 'ServiceMonitor'), 'ServiceMonitor rendered')
    t.equal(find(objs, 'ServiceMonitor')?.metadata.labels?.release, 'kube-prometheus-stack', 'ServiceMonitor carries the selector label')
    const token = find(objs, 'Secret', `${RELEASE}-hook-token`)
    t.ok(token, 'token Secret created')
    t.match(Buffer.from(token?.data?.token ?? '', 'base64').toString(), /^[A-Za-z0-9]{48}$/, 'random token')
  })

  t.test('observability values: dashboards ConfigMap and PrometheusRule from files/', async (t) => {
    const objs = rendered.get('ci/observability-values.yaml')
    if (!objs) return t.pass('no ci/observability-values.yaml', { skip: true })
    const dashDir = join(CHART_DIR, 'files', 'dashboards')
    const dashboards = readdirSync(dashDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
    const cm = find(objs, 'ConfigMap', `${RELEASE}-dashboards`)
    if (dashboards.length === 0) {
      t.notOk(cm, 'no dashboards yet: no ConfigMap')
    } else {
      t.equal(cm?.metadata.labels?.grafana_dashboard, '1', 'labelled for the Grafana sidecar')
      t.same(Object.keys(cm?.data ?? {}).sort(), dashboards, 'one key per dashboard file')
      for (const f of dashboards) {
        t.equal(cm?.data?.[f], readFileSync(join(dashDir, f), 'utf8').replace(/\n+$/, ''), `${f} verbatim`)
        t.doesNotThrow(() => JSON.parse(cm?.data?.[f] ?? ''), `${f} is JSON`)
      }
    }
    const alertDir = join(CHART_DIR, 'files', 'alerts')
    const alerts = readdirSync(alertDir).filter((f) => f.endsWith('.yaml'))
    const rules = all(objs, 'PrometheusRule')
    t.equal(rules.length, alerts.length, 'one PrometheusRule per alerts file')
    for (const r of rules)
      t.ok(r.spec.groups.length > 0 && r.spec.groups.every((g: any) => g.name && Array.isArray(g.rules)), `${r.metadata.name} has rule groups`)
  })
}

t.test('controllers.podMonitors adds podmonitors to every controller', async (t) => {
  const bin = findHelm()
  if (!bin) {
    if (process.env.CI) t.fail(HELM_MISSING)
    else t.comment(`skipped: ${HELM_MISSING}`)
    return
  }
  const children = (objects: K8sObject[], plural: string) =>
    (
      (objects.find((o) => o.kind === 'CompositeController' && (o as any).spec.parentResource.resource === plural) as any).spec.childResources as {
        resource: string
      }[]
    ).map((c) => c.resource)
  const on = renderChart(bin, ['--set', 'controllers.podMonitors=true'])
  const off = renderChart(bin)
  for (const plural of ['moneronodesets', 'moneronetworks', 'monerominingnodesets']) {
    t.ok(children(on, plural).includes('podmonitors'), `${plural}: podmonitors when enabled`)
    t.notOk(children(off, plural).includes('podmonitors'), `${plural}: not by default`)
  }
})
