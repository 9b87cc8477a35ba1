/**
 * `npm run e2e`: the product end to end on a kind cluster (or on an existing cluster).
 *
 *   1. create a kind cluster                       (skipped with E2E_KUBECONFIG)
 *   2. install the pinned Metacontroller (v4.17.2 production kustomize manifests)
 *   3. docker build our image and `kind load` it   (E2E_IMAGE: use a pushed image instead)
 *   4. helm install charts/monero-operator
 *   5. control-plane scenarios (no running pods needed): every example in examples/ gets its
 *      children and a status, `kubectl scale` goes through the scale subresource, a patch
 *      reaches the StatefulSet, a delete removes the children
 *   6. pod scenarios (skipped with E2E_CONTROL_PLANE_ONLY=1): small variants of the
 *      examples become Ready, scale to 2 and back, roll a patch, and their chain-data PVCs
 *      outlive the deleted resource
 *   7. the shared scenarios (e2e/scenarios, the same files the cluster tier runs) with the real
 *      Metacontroller: a monerod and an xmrig image are built from Debian's packages
 *      (e2e/kind/images/*.Dockerfile) and loaded into kind unless SCENARIO_MONEROD_IMAGE and
 *      SCENARIO_XMRIG_IMAGE name images the nodes can pull (skipped with E2E_SCENARIOS=0 or
 *      E2E_CONTROL_PLANE_ONLY=1)
 *   8. clean up: delete the kind cluster (E2E_KEEP_CLUSTER=1 keeps it), even on failure
 *
 * Environment:
 *   E2E_KUBECONFIG=path      run against this cluster (Metacontroller installed if missing)
 *   E2E_CONTROL_PLANE_ONLY=1 only step 5 (clusters without capacity for Monero pods)
 *   E2E_ALLOW_SKIP=1         a missing tool (docker, kind, helm) is "SKIPPED: ..." and exit 0
 *   E2E_IMAGE=repo:tag       hook image already pullable by the cluster (no docker build)
 *   E2E_SCENARIOS=0          skip step 7
 *   E2E_TIMEOUT_SECONDS=600  per wait
 *   E2E_KEEP_CLUSTER=1       keep the kind cluster for debugging
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import { findHelm, HELM_VERSION } from '../../charts/helm.js'
import { repoPath } from '../../hooks/paths.js'

export const KIND_VERSION = 'v0.30.0'
export const METACONTROLLER_VERSION = 'v4.17.2'
const METACONTROLLER_KUSTOMIZE = `https://github.com/metacontroller/metacontroller/manifests/production?ref=${METACONTROLLER_VERSION}`
const CLUSTER = process.env.E2E_CLUSTER_NAME ?? 'monero-operator-e2e'
const RELEASE = 'monero-operator'
const OPERATOR_NS = 'monero-operator'
const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_SECONDS ?? 600) * 1000
const started = Date.now()

// ---- small helpers ---------------------------------------------------------------------

function log(msg: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  process.stdout.write(`[e2e ${s}s] ${msg}\n`)
}

class E2eError extends Error {}

interface RunResult {
  status: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { quiet?: boolean; input?: string } = {}): RunResult {
  if (!opts.quiet) log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts })
  const res = { status: r.status ?? (r.error ? 127 : 1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.error?.message ?? '') }
  return res
}

function must(cmd: string, args: string[], opts: SpawnSyncOptions & { quiet?: boolean; input?: string } = {}): string {
  const r = run(cmd, args, opts)
  if (r.status !== 0) throw new E2eError(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`)
  return r.stdout
}

/** Polls until check() returns a value (not undefined), printing progress. */
async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  log(`waiting: ${what}`)
  for (;;) {
    let got: T | undefined
    try {
      got = check()
    } catch (err) {
      last = (err as Error).message.split('\n')[0] ?? ''
    }
    if (got !== undefined) {
      log(`  done: ${what}`)
      return got
    }
    if (Date.now() > deadline) throw new E2eError(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ` (last: ${last})` : ''}`)
    await new Promise((r) => setTimeout(r, 3000))
  }
}

function skipOrFail(msg: string): never {
  if (process.env.E2E_ALLOW_SKIP === '1') {
    process.stdout.write(`SKIPPED: ${msg}\n`)
    process.exit(0)
  }
  process.stderr.write(`e2e cannot run: ${msg}\n(set E2E_ALLOW_SKIP=1 to report this as skipped instead of failing)\n`)
  process.exit(1)
}

// ---- tools -----------------------------------------------------------------------------

interface Tools {
  kubectl: string
  helm: string
  kind?: string
  docker?: string
}

function resolveTools(existingCluster: boolean, needImageBuild: boolean): Tools {
  const missing: string[] = []
  if (run('kubectl', ['version', '--client'], { quiet: true }).status !== 0)
    missing.push('kubectl (Debian: apt-get install kubernetes-client, or the upstream binary)')
  let helm = findHelm()
  if (!helm) {
    log(`helm ${HELM_VERSION} not cached: building it (bash charts/build-helm.sh)`)
    const r = run('bash', [repoPath('charts', 'build-helm.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    helm = r.status === 0 ? r.stdout.trim() : undefined
    if (!helm) missing.push(`helm ${HELM_VERSION} (bash charts/build-helm.sh needs Go)`)
  }
  const tools: Tools = { kubectl: 'kubectl', helm: helm ?? 'helm' }
  if (needImageBuild) {
    if (run('docker', ['--version'], { quiet: true }).status !== 0) missing.push('the docker CLI')
    else if (run('docker', ['info', '--format', '{{.ServerVersion}}'], { quiet: true }).status !== 0)
      missing.push('a running Docker engine (`docker info` fails: no daemon)')
    else tools.docker = 'docker'
  }
  if (!existingCluster) {
    let kind = process.env.KIND_BIN
    if (!kind && run('kind', ['version'], { quiet: true }).status === 0) kind = 'kind'
    const cached = join(process.env.MONERO_OPERATOR_CACHE ?? repoPath('.cache'), `kind-${KIND_VERSION}`, 'kind')
    if (!kind && existsSync(cached)) kind = cached
    if (!kind && missing.length === 0) {
      log(`kind ${KIND_VERSION} not found: building it (bash e2e/kind/build-kind.sh)`)
      const r = run('bash', [repoPath('e2e', 'kind', 'build-kind.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
      if (r.status === 0) kind = r.stdout.trim()
    }
    if (!kind) missing.push(`kind ${KIND_VERSION} (bash e2e/kind/build-kind.sh needs Go; or set KIND_BIN)`)
    tools.kind = kind
  }
  if (missing.length > 0) skipOrFail(`missing ${missing.join('; ')}`)
  return tools
}

// ---- Kubernetes access -----------------------------------------------------------------

interface Obj {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; ownerReferences?: { uid: string }[]; labels?: Record<string, string> }
  spec?: any
  status?: any
}

class Cluster {
  constructor(
    readonly kubeconfig: string,
    readonly tools: Tools,
  ) {}

  kubectl(args: string[], opts: { quiet?: boolean; input?: string } = {}): string {
    return must(this.tools.kubectl, ['--kubeconfig', this.kubeconfig, ...args], opts)
  }

  tryKubectl(args: string[]): RunResult {
    return run(this.tools.kubectl, ['--kubeconfig', this.kubeconfig, ...args], { quiet: true })
  }

  get(resource: string, name: string, ns?: string): Obj | undefined {
    const r = this.tryKubectl(['get', resource, name, ...(ns ? ['-n', ns] : []), '-o', 'json'])
    return r.status === 0 ? (JSON.parse(r.stdout) as Obj) : undefined
  }

  list(resource: string, ns: string): Obj[] {
    return (JSON.parse(this.kubectl(['get', resource, '-n', ns, '-o', 'json'], { quiet: true })) as { items: Obj[] }).items
  }

  /** Children of a parent, found by owner reference (no naming convention assumed). */
  ownedBy(parent: Obj, resource: string): Obj[] {
    return this.list(resource, parent.metadata.namespace as string).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === parent.metadata.uid))
  }
}

interface Example {
  file: string
  obj: Obj
  plural: string
}

/** The examples whose kind has a CRD and a CompositeController installed. */
function loadExamples(c: Cluster): { runnable: Example[]; skipped: string[] } {
  const crds = JSON.parse(c.kubectl(['get', 'crd', '-o', 'json'], { quiet: true })) as {
    items: { spec: { group: string; names: { kind: string; plural: string } } }[]
  }
  const ccs = JSON.parse(c.kubectl(['get', 'compositecontrollers', '-o', 'json'], { quiet: true })) as { items: Obj[] }
  const runnable: Example[] = []
  const skipped: string[] = []
  for (const file of readdirSync(repoPath('examples'))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(repoPath('examples', file), 'utf8'))) {
      const obj = doc.toJS() as Obj | null
      if (!obj?.kind) continue
      const crd = crds.items.find((x) => x.spec.names.kind === obj.kind && obj.apiVersion.startsWith(`${x.spec.group}/`))
      if (!crd) {
        skipped.push(`${file}: no CRD for ${obj.kind}`)
        continue
      }
      if (!ccs.items.some((cc) => cc.spec.parentResource.resource === crd.spec.names.plural)) {
        skipped.push(`${file}: no CompositeController for ${obj.kind}`)
        continue
      }
      runnable.push({ file, obj, plural: crd.spec.names.plural })
    }
  }
  return { runnable, skipped }
}

const condition = (o: Obj | undefined, type: string) =>
  (o?.status?.conditions as { type: string; status: string; message?: string }[] | undefined)?.find((x) => x.type === type)

function apply(c: Cluster, ns: string, obj: Obj): Obj {
  c.kubectl(['apply', '-n', ns, '-f', '-'], { input: stringify(obj) })
  return c.get(obj.kind.toLowerCase(), obj.metadata.name, ns) as Obj
}

/** The workload child of a parent (StatefulSet, or Deployment for kinds that use one). */
function workload(c: Cluster, parent: Obj): Obj | undefined {
  return c.ownedBy(parent, 'statefulsets')[0] ?? c.ownedBy(parent, 'deployments')[0]
}

// ---- scenarios -------------------------------------------------------------------------

/** Needs only the API server, Metacontroller and the hooks: no Monero pod has to run. */
async function controlPlaneScenarios(c: Cluster, examples: Example[]): Promise<void> {
  const ns = 'e2e-control-plane'
  c.tryKubectl(['create', 'namespace', ns])
  for (const ex of examples) {
    log(`[control plane] ${ex.file}: ${ex.obj.kind}/${ex.obj.metadata.name}`)
    const parent = apply(c, ns, ex.obj)
    const ref = `${ex.plural}/${parent.metadata.name}`
    // Children created.
    const w = await waitFor(`${ref}: workload child created`, () => workload(c, c.get(ex.plural, parent.metadata.name, ns) as Obj))
    if (w.spec.replicas !== ex.obj.spec.replicas) throw new E2eError(`${ref}: workload has ${w.spec.replicas} replicas, want ${ex.obj.spec.replicas}`)
    // Status written (conditions and observedGeneration).
    await waitFor(`${ref}: status with conditions for the current generation`, () => {
      const p = c.get(ex.plural, parent.metadata.name, ns)
      return p && condition(p, 'Ready') && (p.status?.observedGeneration ?? 0) >= (p.metadata.generation ?? 1) ? p : undefined
    })
    // Scale subresource: kubectl scale changes spec.replicas and the workload follows.
    const target = Math.max(1, (ex.obj.spec.replicas as number) - 1)
    c.kubectl(['scale', '-n', ns, ref, `--replicas=${target}`])
    await waitFor(`${ref}: workload scaled to ${target}`, () =>
      workload(c, c.get(ex.plural, parent.metadata.name, ns) as Obj)?.spec.replicas === target ? true : undefined,
    )
    const scale = JSON.parse(
      c.kubectl(['get', '--raw', `/apis/${ex.obj.apiVersion}/namespaces/${ns}/${ex.plural}/${parent.metadata.name}/scale`], { quiet: true }),
    ) as { spec: { replicas: number } }
    if (scale.spec.replicas !== target) throw new E2eError(`${ref}: scale subresource reports ${scale.spec.replicas}, want ${target}`)
    // A patch of the spec reaches the workload (the pod template changes).
    const before = JSON.stringify(workload(c, c.get(ex.plural, parent.metadata.name, ns) as Obj)?.spec.template)
    c.kubectl(['annotate', '-n', ns, ref, 'e2e.monero-operator/touched=1', '--overwrite'], { quiet: true })
    const patch = patchFor(ex.obj)
    c.kubectl(['patch', '-n', ns, ref, '--type', 'merge', '-p', JSON.stringify(patch)])
    await waitFor(`${ref}: patch reaches the pod template`, () =>
      JSON.stringify(workload(c, c.get(ex.plural, parent.metadata.name, ns) as Obj)?.spec.template) !== before ? true : undefined,
    )
    // Delete: the children go with the parent (owner references, garbage collector).
    const uid = c.get(ex.plural, parent.metadata.name, ns)?.metadata.uid
    c.kubectl(['delete', '-n', ns, ref, '--wait=true', '--timeout=300s'])
    await waitFor(`${ref}: children garbage-collected`, () =>
      c.list('statefulsets', ns).some((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid)) ? undefined : true,
    )
  }
  c.tryKubectl(['delete', 'namespace', ns, '--wait=false'])
}

/** A spec change every kind accepts: a new image for monerod, new pool args for xmrig. */
function patchFor(obj: Obj): Record<string, unknown> {
  if (obj.spec?.xmrig) return { spec: { xmrig: { args: [...(obj.spec.xmrig.args ?? []).filter((a: string) => a !== '--tls'), '--donate-level=1'] } } }
  if (obj.spec?.template?.spec?.monerod)
    return { spec: { template: { spec: { monerod: { args: [...obj.spec.template.spec.monerod.args, '--log-level=1'] } } } } }
  return { spec: { monerod: { args: [...(obj.spec?.monerod?.args ?? []), '--log-level=1'] } } }
}

/**
 * Needs schedulable nodes and image pulls: small variants of the node examples (the miner
 * example is not run: it would mine on a public pool).
 */
async function podScenarios(c: Cluster, examples: Example[]): Promise<void> {
  const ns = 'e2e-pods'
  c.tryKubectl(['create', 'namespace', ns])
  for (const ex of examples) {
    if (ex.obj.spec?.xmrig) {
      log(`[pods] ${ex.file}: skipped (would mine on a public pool); covered by the control-plane scenario`)
      continue
    }
    const obj = structuredClone(ex.obj)
    obj.spec.replicas = 1
    delete obj.spec.hardAntiAffinity // one kind node
    log(`[pods] ${ex.file}: ${obj.kind}/${obj.metadata.name} with 1 replica`)
    const parent = apply(c, ns, obj)
    const ref = `${ex.plural}/${parent.metadata.name}`
    const ready = (want: number) => () => {
      const p = c.get(ex.plural, parent.metadata.name, ns)
      const r = condition(p, 'Ready')
      if (r) log(`  ${ref}: Ready=${r.status} ${r.message ?? ''}`)
      return r?.status === 'True' && p?.status?.replicas === want && (p.status.observedGeneration ?? 0) >= (p.metadata.generation ?? 1) ? p : undefined
    }
    await waitFor(`${ref}: Ready with 1 replica`, ready(1))
    c.kubectl(['scale', '-n', ns, ref, '--replicas=2'])
    await waitFor(`${ref}: Ready with 2 replicas`, ready(2))
    c.kubectl(['patch', '-n', ns, ref, '--type', 'merge', '-p', JSON.stringify(patchFor(obj))])
    await waitFor(`${ref}: Ready after rolling the patch`, () => {
      const p = ready(2)()
      const w = p && workload(c, p)
      return w && w.status?.updateRevision === w.status?.currentRevision && w.status?.updatedReplicas === 2 ? p : undefined
    })
    const w = workload(c, c.get(ex.plural, parent.metadata.name, ns) as Obj) as Obj
    const selector = Object.entries(w.spec.selector.matchLabels as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
    const pvcs = () =>
      (JSON.parse(c.kubectl(['get', 'pvc', '-n', ns, '-l', selector, '-o', 'json'], { quiet: true })) as { items: Obj[] }).items
        .map((p) => p.metadata.name)
        .sort()
    const before = pvcs()
    if (before.length === 0) log(`  ${ref}: no PVCs (no volumeClaimTemplates in this example)`)
    c.kubectl(['delete', '-n', ns, ref, '--wait=true', '--timeout=300s'])
    await waitFor(`${ref}: pods gone`, () =>
      (JSON.parse(c.kubectl(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'], { quiet: true })) as { items: unknown[] }).items.length === 0
        ? true
        : undefined,
    )
    const after = pvcs()
    if (JSON.stringify(after) !== JSON.stringify(before))
      throw new E2eError(`${ref}: chain-data PVCs not retained: before ${before.join(',')} after ${after.join(',')}`)
    log(`  ${ref}: ${after.length} PVC(s) retained after delete`)
  }
  c.tryKubectl(['delete', 'namespace', ns, '--wait=false'])
}

// ---- install ---------------------------------------------------------------------------

async function installMetacontroller(c: Cluster): Promise<void> {
  if (c.tryKubectl(['get', 'crd', 'compositecontrollers.metacontroller.k8s.io']).status === 0) {
    log('Metacontroller CRDs already present: not installing it')
  } else {
    c.kubectl(['apply', '-k', METACONTROLLER_KUSTOMIZE])
  }
  c.kubectl(['-n', 'metacontroller', 'rollout', 'status', 'statefulset/metacontroller', `--timeout=${TIMEOUT_MS / 1000}s`])
}

function buildImage(c: Cluster, tools: Tools, kindCluster: string | undefined): { repository: string; tag: string; pullPolicy: string } {
  if (process.env.E2E_IMAGE) {
    const [repository, tag = 'latest'] = process.env.E2E_IMAGE.split(/:(?=[^/]+$)/)
    return { repository: repository as string, tag, pullPolicy: 'IfNotPresent' }
  }
  const image = 'monero-operator:e2e'
  must(tools.docker as string, ['build', '-t', image, repoPath()], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (kindCluster && tools.kind) must(tools.kind, ['load', 'docker-image', image, '--name', kindCluster])
  void c
  return { repository: 'monero-operator', tag: 'e2e', pullPolicy: 'Never' }
}

function helmInstall(c: Cluster, tools: Tools, image: { repository: string; tag: string; pullPolicy: string }): void {
  must(tools.helm, [
    'upgrade',
    '--install',
    RELEASE,
    repoPath('charts', 'monero-operator'),
    '--kubeconfig',
    c.kubeconfig,
    '--namespace',
    OPERATOR_NS,
    '--create-namespace',
    '--set',
    `image.repository=${image.repository}`,
    '--set',
    `image.tag=${image.tag}`,
    '--set',
    `image.pullPolicy=${image.pullPolicy}`,
    '--set',
    'networkPolicy.enabled=true',
    '--wait',
    '--timeout',
    `${TIMEOUT_MS / 1000}s`,
  ])
  c.kubectl(['-n', OPERATOR_NS, 'rollout', 'status', `deployment/${RELEASE}`, `--timeout=${TIMEOUT_MS / 1000}s`])
  const seed = c.get('secret', `${RELEASE}-key-seed`, OPERATOR_NS)
  if (!seed) throw new E2eError('the key-seed Secret was not created')
}

// ---- shared scenarios ------------------------------------------------------------------

/** The monerod and xmrig images of the scenarios: given, or built from Debian's packages and loaded into kind. */
function scenarioImages(tools: Tools, kindCluster: string | undefined): { monerod: string; xmrig: string } {
  const given = { monerod: process.env.SCENARIO_MONEROD_IMAGE, xmrig: process.env.SCENARIO_XMRIG_IMAGE }
  if (given.monerod && given.xmrig) return { monerod: given.monerod, xmrig: given.xmrig }
  if (!tools.docker) throw new E2eError('the shared scenarios need SCENARIO_MONEROD_IMAGE and SCENARIO_XMRIG_IMAGE, or Docker to build them')
  const built = { monerod: 'localhost/monerod-debian:e2e', xmrig: 'localhost/xmrig-debian:e2e' }
  for (const [name, ref] of Object.entries(built)) {
    must(tools.docker, ['build', '-t', ref, '-f', repoPath('e2e', 'kind', 'images', `${name}.Dockerfile`), repoPath('e2e', 'kind', 'images')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    if (kindCluster && tools.kind) must(tools.kind, ['load', 'docker-image', ref, '--name', kindCluster])
  }
  return built
}

/** Runs e2e/scenarios against the cluster with the real Metacontroller (see e2e/scenarios/README.md). */
function runScenarios(kubeconfig: string, image: { repository: string; tag: string; pullPolicy: string }, images: { monerod: string; xmrig: string }): void {
  const r = run('npx', ['tap', '--disable-coverage', '--jobs=1', '--timeout=1500', 'dist/e2e/scenarios/**/*.test.js'], {
    cwd: repoPath(),
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      SCENARIO_KUBECONFIG: kubeconfig,
      SCENARIO_CONTROLLER: 'metacontroller',
      SCENARIO_OPERATOR_IMAGE: `${image.repository}:${image.tag}`,
      SCENARIO_MONEROD_IMAGE: images.monerod,
      SCENARIO_XMRIG_IMAGE: images.xmrig,
      SCENARIO_PULL_POLICY: 'IfNotPresent',
    },
  })
  if (r.status !== 0) throw new E2eError(`the shared scenarios failed (exit ${r.status}; their TAP output is above)`)
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<number> {
  const existing = process.env.E2E_KUBECONFIG
  const controlPlaneOnly = process.env.E2E_CONTROL_PLANE_ONLY === '1'
  if (existing && !existsSync(existing)) {
    process.stderr.write(`E2E_KUBECONFIG=${existing} does not exist\n`)
    return 1
  }
  const tools = resolveTools(Boolean(existing), !process.env.E2E_IMAGE)
  const work = mkdtempSync(join(tmpdir(), 'monero-operator-e2e-'))
  let kubeconfig = existing ?? join(work, 'kubeconfig')
  let created = false
  let failed = false
  try {
    if (!existing) {
      log(`creating kind cluster ${CLUSTER} (kind ${KIND_VERSION})`)
      const config = join(work, 'kind.yaml')
      writeFileSync(config, stringify({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [{ role: 'control-plane' }, { role: 'worker' }] }))
      created = true
      must(tools.kind as string, ['create', 'cluster', '--name', CLUSTER, '--kubeconfig', kubeconfig, '--config', config, '--wait', '300s'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      })
    } else {
      kubeconfig = existing
      log(`using the existing cluster in ${existing}`)
    }
    const c = new Cluster(kubeconfig, tools)
    await installMetacontroller(c)
    const image = buildImage(c, tools, existing ? undefined : CLUSTER)
    helmInstall(c, tools, image)
    const { runnable, skipped } = loadExamples(c)
    for (const s of skipped) log(`example skipped: ${s}`)
    if (runnable.length === 0) throw new E2eError('no example in examples/ has both a CRD and a CompositeController installed')

    log(`== control-plane scenarios (${runnable.length} example(s)) ==`)
    await controlPlaneScenarios(c, runnable)
    if (controlPlaneOnly) log('== pod scenarios: skipped (E2E_CONTROL_PLANE_ONLY=1) ==')
    else {
      log('== pod scenarios ==')
      await podScenarios(c, runnable)
    }
    if (controlPlaneOnly || process.env.E2E_SCENARIOS === '0') log('== shared scenarios: skipped ==')
    else {
      log('== shared scenarios (e2e/scenarios, real Metacontroller) ==')
      runScenarios(kubeconfig, image, scenarioImages(tools, existing ? undefined : CLUSTER))
    }
    log('PASSED')
    return 0
  } catch (err) {
    failed = true
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`)
    if (existsSync(kubeconfig)) {
      const c = new Cluster(kubeconfig, tools)
      log('diagnostics: hook server logs and recent events')
      process.stdout.write(c.tryKubectl(['-n', OPERATOR_NS, 'logs', `deployment/${RELEASE}`, '--tail=50']).stdout)
      process.stdout.write(`${c.tryKubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']).stdout.split('\n').slice(-30).join('\n')}\n`)
    }
    return 1
  } finally {
    if (created && process.env.E2E_KEEP_CLUSTER !== '1') {
      log(`deleting kind cluster ${CLUSTER}${failed ? ' (after failure)' : ''}`)
      run(tools.kind as string, ['delete', 'cluster', '--name', CLUSTER])
    } else if (created) {
      log(`keeping kind cluster ${CLUSTER}: kubeconfig ${kubeconfig}`)
    }
    if (!(created && process.env.E2E_KEEP_CLUSTER === '1')) rmSync(work, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`e2e crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
