/**
 * What every scenario shares: the cluster from the environment, our chart installed as a user
 * would install it, the controller (our CI driver, or a real Metacontroller already in the
 * cluster), a namespace per scenario under the restricted Pod Security Standard, bounded
 * waits that print how long they took, and kubectl for exec.
 *
 * Environment (see e2e/scenarios/README.md):
 *   SCENARIO_KUBECONFIG     kubeconfig of the cluster (required; without it the files skip,
 *                           or fail when CI is set)
 *   SCENARIO_CONTROLLER     driver (default: e2e/metacontroller/driver.ts runs in the test
 *                           process) | metacontroller (a real one is installed already)
 *   SCENARIO_HOOK_ACCESS    how the driver reaches the hook Service: cluster-ip (default: the
 *                           test runs on a cluster node) | url:http://HOST:PORT (e.g. a
 *                           `kubectl port-forward`)
 *   SCENARIO_OPERATOR_IMAGE our image, repo:tag, already present on the node(s)
 *   SCENARIO_MONEROD_IMAGE  a monerod image (spec.monerod.image)
 *   SCENARIO_XMRIG_IMAGE    an xmrig image (spec.xmrig.image)
 *   SCENARIO_PULL_POLICY    imagePullPolicy for those images (default IfNotPresent)
 *   SCENARIO_INSTALL_CHART  0: do not (re)install the chart (it is installed already)
 *   SCENARIO_STORAGE_SIZE   chain-data claim size (default 1Gi; the cluster's default
 *                           StorageClass must bind it)
 *   SCENARIO_KEEP=1         keep the scenario namespaces for debugging
 *   SCENARIO_TIMEOUT_SCALE  multiplies every wait (slow machines)
 */
import { spawnSync } from 'node:child_process'
import { KubeConfig } from '@kubernetes/client-node'
import { findHelm } from '../../charts/helm.js'
import { repoPath } from '../../hooks/paths.js'
import { controllersIn, startDriver, type Driver, type HookAccess } from '../metacontroller/driver.js'
import { KubeClient, messageOf } from '../metacontroller/kube-client.js'

type Json = Record<string, any>

export const OPERATOR_NS = 'monero-operator'
export const RELEASE = 'monero-operator'
export const API = 'utxo.com.br/v1alpha1'
const started = Date.now()

interface Tap {
  plan(n: number, comment?: string): void
  fail(message: string): unknown
  comment(...args: unknown[]): void
  teardown(fn: () => unknown): void
}

/** Thrown inside a waitFor check: stop waiting at once (e.g. a crash-looping pod). */
export class GiveUp extends Error {}

export interface ScenarioEnv {
  kubeconfig: string
  controller: 'driver' | 'metacontroller'
  hookAccess: HookAccess
  operatorImage?: string
  monerodImage?: string
  xmrigImage?: string
  pullPolicy: string
  installChart: boolean
  keep: boolean
  timeoutScale: number
}

/** The environment, or undefined after planning a skip (a failure when CI is set). */
export function scenarioEnv(t: Tap, needs: ('operatorImage' | 'monerodImage' | 'xmrigImage')[] = []): ScenarioEnv | undefined {
  const e = process.env
  const env: ScenarioEnv = {
    kubeconfig: e.SCENARIO_KUBECONFIG ?? '',
    controller: e.SCENARIO_CONTROLLER === 'metacontroller' ? 'metacontroller' : 'driver',
    hookAccess: e.SCENARIO_HOOK_ACCESS?.startsWith('url:') ? { kind: 'url', base: e.SCENARIO_HOOK_ACCESS.slice(4) } : { kind: 'cluster-ip' },
    operatorImage: e.SCENARIO_OPERATOR_IMAGE || undefined,
    monerodImage: e.SCENARIO_MONEROD_IMAGE || undefined,
    xmrigImage: e.SCENARIO_XMRIG_IMAGE || undefined,
    pullPolicy: e.SCENARIO_PULL_POLICY || 'IfNotPresent',
    installChart: e.SCENARIO_INSTALL_CHART !== '0',
    keep: e.SCENARIO_KEEP === '1',
    timeoutScale: Number(e.SCENARIO_TIMEOUT_SCALE || 1),
  }
  const missing: string[] = []
  if (!env.kubeconfig) missing.push('SCENARIO_KUBECONFIG')
  if (env.installChart && !env.operatorImage) needs = [...needs, 'operatorImage']
  for (const n of needs) if (!env[n]) missing.push(`SCENARIO_${n.replace(/Image$/, '').toUpperCase()}_IMAGE`)
  if (missing.length === 0) return env
  const message = `cluster scenarios: set ${missing.join(', ')} (see e2e/scenarios/README.md)`
  const ci = e.CI !== undefined && e.CI !== '' && e.CI !== '0' && e.CI !== 'false'
  if (ci) t.fail(`${message} (CI is set, so this is a failure, not a skip)`)
  else t.plan(0, message)
  return undefined
}

/** Prints `[scenario Ns] message` with the time since the process started. */
export function log(message: string): void {
  process.stdout.write(`# [scenario ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

/** Runs a phase and prints its duration. */
export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now()
  log(`${name} ...`)
  try {
    return await fn()
  } finally {
    log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
}

export interface Scenario {
  env: ScenarioEnv
  kc: KubeConfig
  api: KubeClient
  driver?: Driver
  namespace: string
  /** A bounded wait (scaled by SCENARIO_TIMEOUT_SCALE) that prints its duration. */
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutSeconds: number): Promise<T>
  kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string }
  /** `kubectl exec` in a container; throws on a non-zero exit. */
  exec(pod: string, container: string, command: string[]): string
  get(path: string): Promise<Json>
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: Json }>
  /** Creates one of our resources (or any object) in the scenario namespace. */
  create(obj: Json): Promise<Json>
  patch(kind: string, name: string, patch: unknown): Promise<Json>
  pods(selector: string): Promise<Json[]>
  events(): Promise<Json[]>
}

/** Collection path of our kinds and the built-in kinds the scenarios use. */
export function pathFor(kind: string, namespace: string, name?: string): string {
  const table: Record<string, string> = {
    MoneroNodeSet: `/apis/${API}/namespaces/${namespace}/moneronodesets`,
    MoneroNetwork: `/apis/${API}/namespaces/${namespace}/moneronetworks`,
    MoneroMiningNodeSet: `/apis/${API}/namespaces/${namespace}/monerominingnodesets`,
    StatefulSet: `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
    Service: `/api/v1/namespaces/${namespace}/services`,
    ConfigMap: `/api/v1/namespaces/${namespace}/configmaps`,
    Secret: `/api/v1/namespaces/${namespace}/secrets`,
    Pod: `/api/v1/namespaces/${namespace}/pods`,
    PersistentVolumeClaim: `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    PodDisruptionBudget: `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`,
  }
  const base = table[kind]
  if (!base) throw new Error(`no path for ${kind}`)
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`
}

/** Runs kubectl with the scenario kubeconfig. */
function kubectlWith(kubeconfig: string, args: string[], input?: string) {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

/** A loose CRD standing in for Metacontroller's CompositeController (the driver reads its objects). */
const COMPOSITE_CONTROLLER_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'compositecontrollers.metacontroller.k8s.io', annotations: { 'api-approved.kubernetes.io': 'unapproved, request not yet submitted' } },
  spec: {
    group: 'metacontroller.k8s.io',
    scope: 'Cluster',
    names: {
      kind: 'CompositeController',
      plural: 'compositecontrollers',
      singular: 'compositecontroller',
      listKind: 'CompositeControllerList',
      shortNames: ['cc'],
    },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        subresources: { status: {} },
      },
    ],
  },
}

/** `helm upgrade --install` of our chart with the local image, hook auth and NetworkPolicy on. */
export async function installOperator(env: ScenarioEnv, api: KubeClient, waitFor: Scenario['waitFor']): Promise<void> {
  if (env.controller === 'driver') {
    const res = await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', COMPOSITE_CONTROLLER_CRD)
    if (res.status !== 201 && res.status !== 409) throw new Error(`CompositeController stand-in CRD: ${messageOf(res)}`)
    await waitFor(
      'the CompositeController CRD to be Established',
      async () => {
        const crd = await api.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/compositecontrollers.metacontroller.k8s.io')
        return (crd.body.status?.conditions as Json[] | undefined)?.some((c) => c.type === 'Established' && c.status === 'True')
      },
      30,
    )
  }
  // The namespace first, so the restricted Pod Security Standard applies to the hook pods.
  const ns = await api.request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: OPERATOR_NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
  })
  if (ns.status !== 201 && ns.status !== 409) throw new Error(`namespace ${OPERATOR_NS}: ${messageOf(ns)}`)
  // Installed already by an earlier scenario file with the same settings: nothing to do.
  const deploy = await api.request('GET', `/apis/apps/v1/namespaces/${OPERATOR_NS}/deployments/${RELEASE}`)
  const policy = await api.request('GET', `/apis/networking.k8s.io/v1/namespaces/${OPERATOR_NS}/networkpolicies/${RELEASE}`)
  const c = deploy.body?.spec?.template?.spec?.containers?.[0]
  if (
    deploy.status === 200 &&
    policy.status === 200 &&
    c?.image === env.operatorImage &&
    (c.env as Json[] | undefined)?.some((e) => e.name === 'HOOK_BEARER_TOKEN_FILE') &&
    deploy.body.status?.readyReplicas === deploy.body.spec.replicas
  ) {
    log('chart already installed with these settings')
    return
  }
  const helm = findHelm()
  if (!helm) throw new Error('helm not found: run `bash charts/build-helm.sh` (or set HELM_BIN)')
  const image = env.operatorImage!
  const colon = image.lastIndexOf(':')
  const [repository, tag] = colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest']
  const args = [
    'upgrade',
    '--install',
    RELEASE,
    repoPath('charts', 'monero-operator'),
    '--kubeconfig',
    env.kubeconfig,
    '--namespace',
    OPERATOR_NS,
    '--set',
    `image.repository=${repository}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    `image.pullPolicy=${env.pullPolicy}`,
    '--set',
    'hookAuth.enabled=true',
    '--set',
    'networkPolicy.enabled=true',
    '--wait',
    '--timeout',
    `${Math.round(180 * env.timeoutScale)}s`,
  ]
  const r = spawnSync(helm, args, { encoding: 'utf8', timeout: 300_000 * env.timeoutScale })
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`)
}

let operatorReady: Promise<void> | undefined

/** Sets up a scenario: operator installed (once per process), driver started, namespace created. */
export async function setupScenario(t: Tap, env: ScenarioEnv, name: string): Promise<Scenario> {
  const kc = new KubeConfig()
  kc.loadFromFile(env.kubeconfig)
  const api = new KubeClient(kc)
  t.teardown(() => api.close())
  const waitFor: Scenario['waitFor'] = async (what, fn, timeoutSeconds) => {
    const t0 = Date.now()
    const deadline = t0 + timeoutSeconds * 1000 * env.timeoutScale
    let last: unknown
    for (;;) {
      try {
        const v = await fn()
        if (v) {
          log(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
          return v
        }
      } catch (err) {
        if (err instanceof GiveUp) throw err
        last = err
      }
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutSeconds * env.timeoutScale} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  if (env.installChart) {
    operatorReady ??= phase('install the chart', () => installOperator(env, api, waitFor))
    await operatorReady
  }
  let driver: Driver | undefined
  if (env.controller === 'driver') {
    driver = await phase('start the driver', async () => {
      const list = await api.request('GET', '/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers')
      if (list.status !== 200) throw new Error(`CompositeControllers: ${messageOf(list)}`)
      const controllers = controllersIn(list.body.items.map((o: Json) => ({ ...o, apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'CompositeController' })))
      if (controllers.length === 0) throw new Error('no CompositeController in the cluster (is the chart installed with controllers.enabled?)')
      return startDriver({
        kubeConfig: kc,
        controllers,
        hookAccess: env.hookAccess,
        backoffMaxMs: 10_000,
        log: (m) => (/Updating|Deleting|sync error/.test(m) ? log(`driver: ${m}`) : undefined),
      })
    })
    t.teardown(() => driver!.stop())
  }

  const namespace = `sc-${name}`
  const scenario: Scenario = {
    env,
    kc,
    api,
    driver,
    namespace,
    waitFor,
    kubectl: (args, input) => kubectlWith(env.kubeconfig, args, input),
    exec(pod, container, command) {
      const r = kubectlWith(env.kubeconfig, ['exec', '-n', namespace, pod, '-c', container, '--', ...command])
      if (r.status !== 0) throw new Error(`exec ${pod}/${container} ${command.join(' ')}: ${r.status} ${r.stderr.trim()}`)
      return r.stdout
    },
    async get(path) {
      const res = await api.request('GET', path)
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${messageOf(res)}`)
      return res.body
    },
    request: (method, path, body, contentType) => api.request(method, path, body, contentType),
    async create(obj) {
      const res = await api.request('POST', `${pathFor(obj.kind, namespace)}?fieldValidation=Strict`, { ...obj, metadata: { ...obj.metadata, namespace } })
      if (res.status !== 201) throw new Error(`create ${obj.kind}/${obj.metadata.name}: ${res.status} ${messageOf(res)}`)
      return res.body
    },
    async patch(kind, objName, body) {
      const res = await api.request('PATCH', pathFor(kind, namespace, objName), body, 'application/merge-patch+json')
      if (res.status !== 200) throw new Error(`patch ${kind}/${objName}: ${res.status} ${messageOf(res)}`)
      return res.body
    },
    async pods(selector) {
      return (await scenario.get(`${pathFor('Pod', namespace)}?labelSelector=${encodeURIComponent(selector)}`)).items as Json[]
    },
    async events() {
      return (await scenario.get(`/api/v1/namespaces/${namespace}/events`)).items as Json[]
    },
  }

  // A fresh namespace under the restricted Pod Security Standard.
  await phase(`namespace ${namespace}`, async () => {
    const existing = await api.request('GET', `/api/v1/namespaces/${namespace}`)
    if (existing.status === 200) {
      await api.request('DELETE', `/api/v1/namespaces/${namespace}`)
      await waitFor(`old namespace ${namespace} gone`, async () => (await api.request('GET', `/api/v1/namespaces/${namespace}`)).status === 404, 180)
    }
    const res = await api.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
    })
    if (res.status !== 201) throw new Error(`namespace ${namespace}: ${messageOf(res)}`)
  })
  if (!env.keep) {
    t.teardown(async () => {
      await api.request('DELETE', `/api/v1/namespaces/${namespace}`)
    })
  }
  return scenario
}

/** Whether a pod is Ready. */
export function podReady(pod: Json): boolean {
  return (pod.status?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** Small resource requests so that several monerods fit on a 2-core node. */
export const SMALL = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '1Gi' } }

/**
 * Mainnet monerod fetches DNS checkpoints at every start; in a cluster without internet that
 * takes about 150 s before its RPC (and readiness) is up. Scenarios that are not about the
 * proposal's own args turn it off, as a user of an offline cluster would.
 */
export const OFFLINE_ARGS: string[] = ['--disable-dns-checkpoints']

/** Chain-data claim size of the scenario resources (SCENARIO_STORAGE_SIZE, default 1Gi). */
export const STORAGE_SIZE = process.env.SCENARIO_STORAGE_SIZE || '1Gi'

/** Ports: regtest/mainnet unrestricted RPC inside the pod. */
export const RPC_PORT = 18081

/**
 * A JSON-RPC or plain RPC call to monerod's unrestricted RPC on 127.0.0.1 inside a pod, made
 * from the exporter sidecar (our image has node; the monerod image need not have a client).
 */
export function monerodRpc(s: Scenario, pod: string, method: string, params: unknown = {}, container = 'exporter'): Json {
  const script = `
const [method, params] = [process.argv[1], JSON.parse(process.argv[2])];
const plain = method.startsWith('/');
const res = await fetch('http://127.0.0.1:${RPC_PORT}' + (plain ? method : '/json_rpc'), {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify(plain ? params : { jsonrpc: '2.0', id: '0', method, params }),
});
process.stdout.write(await res.text());
`
  const out = s.exec(pod, container, ['node', '--input-type=module', '-e', script, method, JSON.stringify(params)])
  const body = JSON.parse(out)
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`)
  return method.startsWith('/') ? body : body.result
}

/** GET of a pod's HTTP port through the apiserver's pod proxy. */
export async function podHttp(s: Scenario, pod: string, port: number, path: string): Promise<string> {
  const res = await s.api.request('GET', `/api/v1/namespaces/${s.namespace}/pods/${pod}:${port}/proxy${path}`)
  if (res.status !== 200)
    throw new Error(`GET pod ${pod}:${port}${path}: ${res.status} ${typeof res.body === 'string' ? res.body.slice(0, 200) : messageOf(res)}`)
  return typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
}
