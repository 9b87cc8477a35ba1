/**
 * A real single-node Kubernetes cluster on this machine, for the cluster tier
 * (npm run test:cluster): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * kubelet with containerd/runc and CNI (bridge cni0 + host-local + portmap), kube-proxy in
 * iptables mode, CoreDNS as a host process behind the kube-dns Service, a default
 * StorageClass with pre-created `local` PersistentVolumes, and our images (images.sh)
 * imported into containerd. Everything runs from local binaries (build.sh); nothing is pulled.
 *
 * The node lives on a dummy link `klbr0` (a bridge without ports where the kernel has no dummy driver) (address {@link DEFAULTS.nodeIP}): the apiserver,
 * kubelet, kube-proxy and CoreDNS listen there, never on other interfaces. One cluster per
 * machine: the run directory, link and bridge names are fixed.
 *
 * Teardown ({@link Cluster.stop}, also on exit, SIGINT, SIGTERM and when start-up fails) is
 * synchronous and leaves nothing behind: every process stopped by PID (containers through
 * the kubelet's cgroups, then containerd's shims), `kube-proxy --cleanup`, the KUBE-* and
 * CNI-* iptables chains, the kubelet's and containerd's mounts, the sandboxes' network
 * namespaces, cni0, klbr0, the CNI result cache, sysctls restored, the run directory removed.
 * A cluster left by a killed process is torn down by the next start (or `main.js down`).
 */
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { promises as dns } from 'node:dns'
import { request as httpsRequest } from 'node:https'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node'
import { findBinaries, isCI, pinnedKubernetesVersion } from '../apiserver/control-plane.js'

export const DEFAULTS = {
  runDir: '/var/tmp/monero-operator-cluster',
  /** etcd's data on tmpfs: it fsyncs every write. */
  etcdDir: '/dev/shm/monero-operator-cluster-etcd',
  nodeName: 'monero-operator-node',
  nodeIP: '10.250.0.1',
  podCIDR: '10.244.0.0/24',
  serviceCIDR: '10.96.0.0/16',
  apiServiceIP: '10.96.0.1',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  apiPort: 6443,
  corednsPort: 1053,
  localVolumes: 24,
  storageClass: 'local',
  link: 'klbr0',
  bridge: 'cni0',
  cniNetwork: 'monero-operator-e2e',
  corednsVersion: 'v1.15.0',
} as const

export interface ClusterOptions {
  /** Number of `local` PersistentVolumes created up front (default 24). */
  localVolumes?: number
  /** Image roles of images.json to import (default: all of them). */
  images?: string[]
  /** Give up waiting for the node, CoreDNS ... after this long (default 180 s). */
  readyTimeoutMs?: number
  /** Keep the processes running when this process exits (the CLI's `up`). Default false. */
  detach?: boolean
  /** Keep the run directory (logs) after stop(). Also env KEEP_CLUSTER=1. */
  keepDir?: boolean
  /** Progress messages, phase durations included (default: console.error). */
  log?: (message: string) => void
}

export interface Cluster {
  /** Admin kubeconfig (system:masters, client certificate) on disk. */
  kubeconfigPath: string
  kubeConfig: KubeConfig
  /** `https://<nodeIP>:6443` */
  server: string
  nodeName: string
  nodeIP: string
  /** Name of the default StorageClass (`local`, WaitForFirstConsumer). */
  storageClass: string
  /** Image references by role (operator, monerod, xmrig, node-base, pause), as imported. */
  images: Record<string, string>
  runDir: string
  /** Tears everything down (see the module comment). Idempotent. */
  stop(): Promise<void>
}

/** Image manifest written by images.sh. */
export type ImageManifest = Record<string, { ref: string; archive: string }>

const here = dirname(fileURLToPath(import.meta.url))

function repoRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'e2e', 'cluster', 'build.sh'))) return dir
    if (dirname(dir) === dir) return resolve(here, '..', '..')
  }
}

function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MONERO_OPERATOR_CACHE || join(repoRoot(), '.cache')
}

export interface ClusterBinaries {
  etcd: string
  kubeApiserver: string
  kubeControllerManager: string
  kubeScheduler: string
  kubelet: string
  kubeProxy: string
  coredns: string
  containerd: string
  ctr: string
}

/** Locates everything the cluster runs, or says what is missing and how to get it. */
export function findClusterBinaries(
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; binaries: ClusterBinaries; images: ImageManifest } | { ok: false; missing: string[]; hint: string } {
  const missing: string[] = []
  const apiserver = findBinaries(env)
  if (!apiserver.ok) missing.push(...apiserver.missing)
  const cache = cacheDir(env)
  const nodeDir = join(cache, `kubernetes-node-${pinnedKubernetesVersion()}`)
  const exe = (path: string): string => {
    try {
      if (statSync(path).mode & 0o111) return path
    } catch {
      // missing
    }
    missing.push(path)
    return path
  }
  const binaries = {
    etcd: apiserver.ok ? apiserver.etcd : '',
    kubeApiserver: apiserver.ok ? apiserver.kubeApiserver : '',
    kubeControllerManager: exe(join(nodeDir, 'kube-controller-manager')),
    kubeScheduler: exe(join(nodeDir, 'kube-scheduler')),
    kubelet: exe(join(nodeDir, 'kubelet')),
    kubeProxy: exe(join(nodeDir, 'kube-proxy')),
    coredns: exe(join(cache, `coredns-${DEFAULTS.corednsVersion}-cluster`, 'coredns')),
    containerd: exe('/usr/bin/containerd'),
    ctr: exe('/usr/bin/ctr'),
  }
  for (const plugin of ['bridge', 'host-local', 'portmap', 'loopback']) exe(join('/usr/lib/cni', plugin))
  for (const tool of ['/usr/sbin/iptables', '/usr/sbin/iptables-save', '/usr/sbin/conntrack', '/usr/bin/openssl']) {
    if (!existsSync(tool)) missing.push(tool)
  }
  let images: ImageManifest = {}
  const manifest = join(cache, 'images', 'images.json')
  try {
    images = JSON.parse(readFileSync(manifest, 'utf8')) as ImageManifest
    for (const [role, image] of Object.entries(images)) {
      if (!existsSync(image.archive)) missing.push(`image ${role} (${image.archive})`)
    }
  } catch {
    missing.push(manifest)
  }
  if (process.getuid?.() !== 0) missing.push('root (the cluster creates links, iptables rules and mounts)')
  if (missing.length) return { ok: false, missing, hint: 'run `bash e2e/cluster/build.sh` (as root, after `bash .ci/setup`)' }
  return { ok: true, binaries, images }
}

/**
 * Gate for a test file of this tier, like the apiserver tier's: skips (with the reason) on a
 * machine without the binaries, images or root, and fails instead when CI is set.
 */
export function clusterAvailable(
  t: { plan(n: number, comment?: string): void; fail(message: string): unknown },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const found = findClusterBinaries(env)
  if (found.ok) return true
  const message = `cluster tier: missing ${found.missing.join('; ')}; ${found.hint}`
  if (isCI(env)) t.fail(`${message} (CI is set, so this is a failure, not a skip)`)
  else t.plan(0, message)
  return false
}

// --- small synchronous helpers ------------------------------------------------------------------

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs a command; throws with its output when it fails (unless `allowFail`). */
function sh(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string; timeoutMs?: number } = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 60_000 })
  if (res.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${res.status ?? res.signal}): ${res.stderr || res.stdout || res.error?.message}`)
  }
  return res.stdout ?? ''
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** True when the pid runs (not a zombie) and its command line contains `marker`. */
function alive(pid: number, marker?: string): boolean {
  const stat = readText(`/proc/${pid}/stat`)
  if (!stat) return false
  if (/^\d+ \(.*\) Z/s.test(stat)) return false
  if (marker === undefined) return true
  return (readText(`/proc/${pid}/cmdline`) ?? '').includes(marker)
}

/** SIGTERM, then SIGKILL after `graceMs`; waits until they are gone. */
function killAll(pids: number[], graceMs: number, marker?: string): void {
  const targets = pids.filter((pid) => alive(pid, marker))
  for (const pid of targets) {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + graceMs
  while (targets.some((pid) => alive(pid)) && Date.now() < deadline) sleepSync(50)
  for (const pid of targets.filter((p) => alive(p))) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  const hard = Date.now() + 5_000
  while (targets.some((pid) => alive(pid)) && Date.now() < hard) sleepSync(50)
}

function tail(path: string, lines = 30): string {
  return (readText(path) ?? '(no log)').trimEnd().split('\n').slice(-lines).join('\n')
}

// --- state of a run (survives the process that started it) ---------------------------------------

interface RunState {
  owner: number
  detached: boolean
  runDir: string
  etcdDir: string
  /** name -> pid; each process has the run directory (or etcd dir) in its command line. */
  pids: Record<string, number>
  /** sysctls we changed: path -> previous value. */
  sysctls: Record<string, string>
  /** network namespaces that existed before containerd started (never touched). */
  netnsBefore: string[]
  kubeProxy?: string
  proxyConfig?: string
}

const statePath = (runDir: string) => join(runDir, 'state.json')

function saveState(state: RunState): void {
  writeFileSync(statePath(state.runDir), JSON.stringify(state, null, 2))
}

// --- teardown -----------------------------------------------------------------------------------

function cgroupRoots(): string[] {
  const base = '/sys/fs/cgroup'
  if (existsSync(join(base, 'cgroup.controllers'))) return [base] // v2
  try {
    return readdirSync(base)
      .map((name) => join(base, name))
      .filter((p) => {
        try {
          return statSync(p).isDirectory()
        } catch {
          return false
        }
      })
  } catch {
    return []
  }
}

/** Every cgroup directory below `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
  const out: string[] = []
  let entries: string[] = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
  } catch {
    return out
  }
  for (const name of entries) out.push(...cgroupTree(join(dir, name)))
  out.push(dir)
  return out
}

/** Kills every process in the kubelet's pod cgroups (containers and sandboxes), then removes the cgroups. */
function killPodCgroups(): void {
  const trees = cgroupRoots()
    .map((root) => join(root, 'kubepods'))
    .filter((p) => existsSync(p))
  for (let round = 0; round < 40; round++) {
    const pids = new Set<number>()
    for (const tree of trees) {
      for (const dir of cgroupTree(tree)) {
        for (const line of (readText(join(dir, 'cgroup.procs')) ?? '').split('\n')) {
          const pid = Number(line)
          if (pid > 0) pids.add(pid)
        }
      }
    }
    const live = [...pids].filter((pid) => alive(pid))
    if (!live.length) break
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
    sleepSync(100)
  }
  // A killed task keeps its cgroup busy until the kernel has finished tearing it down (seen
  // with cgroup v1's memory controller: rmdir right after the last SIGKILL failed with EBUSY
  // and worked a moment later), so removal is retried for a while.
  for (let round = 0; round < 100; round++) {
    let left = 0
    for (const tree of trees) {
      for (const dir of cgroupTree(tree)) {
        try {
          rmdirSync(dir)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++ // busy: tried again; reported by the leftovers check if it stays
        }
      }
    }
    if (left === 0) break
    sleepSync(100)
  }
}

/** containerd-shim processes serving the containerd whose socket is `socket`. */
function shimPids(socket: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!pid) continue
    const cmdline = readText(`/proc/${pid}/cmdline`) ?? ''
    if (cmdline.includes('containerd-shim') && cmdline.includes(socket)) pids.push(pid)
  }
  return pids
}

function mountPoints(): string[] {
  return (readText('/proc/self/mountinfo') ?? '')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
}

function unmountUnder(prefixes: string[]): void {
  for (let round = 0; round < 5; round++) {
    const points = mountPoints()
      .filter((p) => prefixes.some((prefix) => p === prefix || p.startsWith(`${prefix}/`)))
      .reverse()
    if (!points.length) return
    for (const point of points) sh('umount', ['-l', point], { allowFail: true })
  }
}

function netnsNames(): string[] {
  try {
    return readdirSync('/run/netns')
  } catch {
    return []
  }
}

const IPTABLES_TABLES = ['filter', 'nat', 'mangle', 'raw']

/** Removes chains named KUBE-* or CNI-* (and the rules jumping to them) from iptables and ip6tables. */
function removeIptablesChains(): void {
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of IPTABLES_TABLES) {
      const rules = sh(tool, ['-w', '-t', table, '-S'], { allowFail: true })
      const ours = (name: string) => /^(KUBE-|CNI-)/.test(name)
      const chains = rules
        .split('\n')
        .filter((l) => l.startsWith('-N '))
        .map((l) => l.slice(3).trim())
        .filter(ours)
      // Rules in other chains that jump to ours.
      for (const line of rules.split('\n')) {
        const m = /^-A (\S+) .*-j (\S+)/.exec(line)
        if (m?.[1] && m[2] && !ours(m[1]) && ours(m[2])) {
          sh('sh', ['-c', `${tool} -w -t ${table} ${line.replace(/^-A /, '-D ')}`], { allowFail: true })
        }
      }
      for (const chain of chains) sh(tool, ['-w', '-t', table, '-F', chain], { allowFail: true })
      for (const chain of chains) sh(tool, ['-w', '-t', table, '-X', chain], { allowFail: true })
    }
  }
}

/**
 * Tears down the cluster whose state is in `runDir` (synchronous, so it also runs from exit and
 * signal handlers). Safe to call on a half-started or already removed cluster.
 */
export function teardownSync(runDir: string = DEFAULTS.runDir, opts: { keepDir?: boolean; log?: (m: string) => void } = {}): void {
  const log = opts.log ?? (() => {})
  const started = Date.now()
  let stepStart = started
  const step = (name: string) => {
    const now = Date.now()
    if (now - stepStart > 500) log(`cluster: teardown: ${name} ${((now - stepStart) / 1000).toFixed(1)} s`)
    stepStart = now
  }
  let state: RunState | undefined
  try {
    state = JSON.parse(readFileSync(statePath(runDir), 'utf8')) as RunState
  } catch {
    state = undefined
  }
  const pids = state?.pids ?? {}
  const pid = (name: string) => (pids[name] ? [pids[name]] : [])
  const marker = (name: string) => (name === 'etcd' ? (state?.etcdDir ?? DEFAULTS.etcdDir) : runDir)
  const stop = (names: string[], graceMs: number) => {
    for (const name of names) killAll(pid(name), graceMs, marker(name))
  }
  // 1. Nothing may recreate or restart pods: control loops and the node agents first.
  stop(['kube-scheduler', 'kube-controller-manager', 'coredns'], 5_000)
  stop(['kubelet'], 10_000)
  step('control loops and kubelet stopped')
  // 2. Containers (all in the kubelet's cgroups), then containerd's shims and containerd.
  killPodCgroups()
  const socket = join(runDir, 'containerd', 'containerd.sock')
  // containerd's root is a cache kept between runs: it must not remember this run's containers.
  if (state && pids.containerd && alive(pids.containerd, runDir)) {
    const ctr = (args: string[]) => sh('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { allowFail: true, timeoutMs: 30_000 })
    for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter(Boolean)) ctr(['tasks', 'rm', '-f', id])
    const containers = ctr(['containers', 'ls', '-q']).split('\n').filter(Boolean)
    if (containers.length) ctr(['containers', 'rm', ...containers])
  }
  killAll(shimPids(socket), 2_000)
  stop(['containerd'], 10_000)
  killAll(shimPids(socket), 2_000)
  step('containers, shims, containerd stopped')
  // 3. kube-proxy's rules, then whatever KUBE-*/CNI-* chains remain (the kubelet's, portmap's).
  stop(['kube-proxy'], 5_000)
  if (state?.kubeProxy && existsSync(state.kubeProxy)) {
    sh(state.kubeProxy, ['--cleanup', ...(state.proxyConfig && existsSync(state.proxyConfig) ? [`--config=${state.proxyConfig}`] : [])], {
      allowFail: true,
      timeoutMs: 30_000,
    })
  }
  removeIptablesChains()
  step('iptables cleaned')
  stop(['kube-apiserver'], 10_000)
  stop(['etcd'], 10_000)
  step('apiserver, etcd stopped')
  // 4. Mounts: the kubelet's volumes and containerd's rootfs/shm under the run directory, and the
  //    sandboxes' network namespaces (only those that did not exist before this run).
  unmountUnder([runDir])
  const before = new Set(state?.netnsBefore ?? [])
  for (const name of netnsNames()) {
    if (!name.startsWith('cni-') || before.has(name)) continue
    sh('umount', ['-l', join('/run/netns', name)], { allowFail: true })
    try {
      unlinkSync(join('/run/netns', name))
    } catch {
      // gone
    }
  }
  step('mounts and network namespaces removed')
  // 5. Links, CNI state, sysctls.
  for (const link of [DEFAULTS.bridge, DEFAULTS.link]) {
    if (existsSync(`/sys/class/net/${link}`)) sh('ip', ['link', 'del', link], { allowFail: true })
  }
  try {
    for (const name of readdirSync('/var/lib/cni/results')) {
      if (name.startsWith(`${DEFAULTS.cniNetwork}-`)) rmSync(join('/var/lib/cni/results', name), { force: true })
    }
  } catch {
    // no cache
  }
  for (const [path, value] of Object.entries(state?.sysctls ?? {})) {
    try {
      writeFileSync(path, value)
    } catch {
      // best effort
    }
  }
  step('links, CNI cache, sysctls')
  rmSync(state?.etcdDir ?? DEFAULTS.etcdDir, { recursive: true, force: true })
  if (opts.keepDir || process.env.KEEP_CLUSTER === '1') {
    rmSync(statePath(runDir), { force: true })
  } else {
    rmSync(runDir, { recursive: true, force: true })
  }
  step('run directory removed')
  log(`cluster: teardown ${Date.now() - started} ms`)
}

/** What a torn-down cluster must not leave behind; empty when clean. */
export function leftovers(runDir: string = DEFAULTS.runDir): string[] {
  const found: string[] = []
  for (const link of [DEFAULTS.bridge, DEFAULTS.link]) {
    if (existsSync(`/sys/class/net/${link}`)) found.push(`link ${link}`)
  }
  for (const name of readdirSync('/sys/class/net')) {
    if (readText(`/sys/class/net/${name}/master/uevent`)?.includes(`INTERFACE=${DEFAULTS.bridge}`)) found.push(`link ${name} on ${DEFAULTS.bridge}`)
  }
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    for (const line of sh(tool, [], { allowFail: true }).split('\n')) {
      if (/KUBE-|CNI-/.test(line)) found.push(`${tool}: ${line}`)
    }
  }
  for (const point of mountPoints()) {
    if (point.startsWith(runDir) || point.startsWith('/run/netns/cni-') || point.includes('/kubelet/')) found.push(`mount ${point}`)
  }
  if (existsSync(runDir)) found.push(`directory ${runDir}`)
  for (const root of cgroupRoots()) if (existsSync(join(root, 'kubepods'))) found.push(`cgroup ${join(root, 'kubepods')}`)
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!pid) continue
    const cmdline = readText(`/proc/${pid}/cmdline`) ?? ''
    if (cmdline.includes(runDir) || cmdline.includes(DEFAULTS.etcdDir)) found.push(`process ${pid}: ${cmdline.replace(/\0/g, ' ').slice(0, 120)}`)
  }
  return found
}

// --- PKI (openssl) ------------------------------------------------------------------------------

interface Pki {
  dir: string
  ca: string
  caKey: string
}

function newCa(dir: string): Pki {
  mkdirSync(dir, { recursive: true })
  const ca = join(dir, 'ca.crt')
  const caKey = join(dir, 'ca.key')
  sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey])
  sh('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-subj',
    '/CN=monero-operator-e2e-ca',
    '-days',
    '2',
    '-out',
    ca,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ])
  return { dir, ca, caKey }
}

/** A key and certificate signed by the CA; `sans` makes it a serving certificate. */
function issue(pki: Pki, name: string, subject: string, sans?: string[]): { cert: string; key: string } {
  const key = join(pki.dir, `${name}.key`)
  const csr = join(pki.dir, `${name}.csr`)
  const cert = join(pki.dir, `${name}.crt`)
  const ext = join(pki.dir, `${name}.ext`)
  sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key])
  sh('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr])
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${sans ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(sans ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n'),
  )
  sh('openssl', ['x509', '-req', '-in', csr, '-CA', pki.ca, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert])
  rmSync(csr)
  rmSync(ext)
  return { cert, key }
}

function kubeconfig(path: string, server: string, ca: string, client: { cert: string; key: string }, user: string): string {
  const b64 = (p: string) => readFileSync(p).toString('base64')
  writeFileSync(
    path,
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': b64(ca) } }],
        users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user, namespace: 'default' } }],
        'current-context': 'e2e',
      },
      null,
      2,
    ),
    { mode: 0o600 },
  )
  return path
}

// --- start-up -----------------------------------------------------------------------------------

let exitHooks: { runDir: string; keepDir: boolean } | undefined

function installExitHooks(runDir: string, keepDir: boolean): void {
  if (exitHooks) return
  exitHooks = { runDir, keepDir }
  process.on('exit', () => {
    if (exitHooks) teardownSync(exitHooks.runDir, { keepDir: exitHooks.keepDir })
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      if (exitHooks) {
        process.stderr.write(`cluster: ${signal}, tearing down\n`)
        teardownSync(exitHooks.runDir, { keepDir: exitHooks.keepDir, log: (m) => process.stderr.write(`${m}\n`) })
        exitHooks = undefined
      }
      process.kill(process.pid, signal)
    })
  }
}

/**
 * Starts the cluster and resolves once the node is Ready, CoreDNS answers, the default
 * ServiceAccount exists and the images are imported. On failure everything started is torn
 * down and the error carries the tails of the relevant logs.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`))
  const found = findClusterBinaries()
  if (!found.ok) throw new Error(`cannot start the cluster: missing ${found.missing.join('; ')}; ${found.hint}`)
  const { binaries } = found
  const runDir = DEFAULTS.runDir
  const keepDir = opts.keepDir ?? process.env.KEEP_CLUSTER === '1'

  // A cluster left by a process that died without its exit hooks: tear it down first.
  const previous = readText(statePath(runDir))
  if (previous) {
    const prev = JSON.parse(previous) as RunState
    // One cluster per machine, and never someone else's: a cluster whose starting process
    // still runs, or one that `main.js up` left running, is refused, not torn down.
    if (prev.owner !== process.pid && alive(prev.owner)) {
      throw new Error(`a cluster owned by pid ${prev.owner} is running or starting (${runDir}); stop it first`)
    }
    const apiserverPid = prev.pids['kube-apiserver']
    if (prev.detached && apiserverPid && alive(apiserverPid, runDir)) {
      throw new Error(`a cluster started by \`main.js up\` is running (${runDir}): use attachCluster(), or \`node dist/e2e/cluster/main.js down\` first`)
    }
    log(`cluster: tearing down a previous cluster in ${runDir}`)
    teardownSync(runDir, { log })
  } else if (existsSync(`/sys/class/net/${DEFAULTS.link}`) || existsSync(runDir)) {
    log(`cluster: removing leftovers of a previous cluster`)
    teardownSync(runDir, { log })
  }

  const t0 = Date.now()
  let phaseStart = t0
  const phase = (name: string) => {
    const now = Date.now()
    log(`cluster: ${name} ${((now - phaseStart) / 1000).toFixed(1)} s`)
    phaseStart = now
  }

  const dirs = {
    logs: join(runDir, 'logs'),
    pki: join(runDir, 'pki'),
    etc: join(runDir, 'etc'),
    containerd: join(runDir, 'containerd'),
    cniConf: join(runDir, 'cni', 'net.d'),
    cniIpam: join(runDir, 'cni', 'ipam'),
    kubelet: join(runDir, 'kubelet'),
    volumes: join(runDir, 'volumes'),
  }
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true })
  mkdirSync(DEFAULTS.etcdDir, { recursive: true })

  const state: RunState = {
    owner: process.pid,
    detached: !!opts.detach,
    runDir,
    etcdDir: DEFAULTS.etcdDir,
    pids: {},
    sysctls: {},
    netnsBefore: netnsNames(),
    kubeProxy: binaries.kubeProxy,
    proxyConfig: join(dirs.etc, 'kube-proxy.yaml'),
  }
  saveState(state)
  if (!opts.detach) installExitHooks(runDir, keepDir)
  else exitHooks = undefined

  const children = new Map<string, { pid: number; log: string; exited?: string }>()
  const startProcess = (name: string, bin: string, args: string[]): void => {
    const logPath = join(dirs.logs, `${name}.log`)
    const fd = openSync(logPath, 'a')
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true, cwd: runDir })
    closeSync(fd)
    if (!child.pid) throw new Error(`${name}: could not start ${bin}`)
    const entry: { pid: number; log: string; exited?: string } = { pid: child.pid, log: logPath }
    child.on('exit', (code, signal) => (entry.exited = `code ${code}, signal ${signal}`))
    child.on('error', (err) => (entry.exited = err.message))
    if (opts.detach) child.unref()
    children.set(name, entry)
    state.pids[name] = child.pid
    saveState(state)
  }
  const failWith = (reason: string, names: string[]): never => {
    const logs = names.map((n) => `--- ${n}.log (tail) ---\n${tail(join(dirs.logs, `${n}.log`))}`).join('\n')
    throw new Error(`cluster did not start: ${reason}\n${logs}`)
  }
  const checkAlive = () => {
    for (const [name, child] of children) if (child.exited) failWith(`${name} exited (${child.exited})`, [name])
  }
  const deadline = t0 + (opts.readyTimeoutMs ?? 180_000)
  const waitFor = async <T>(what: string, names: string[], fn: () => Promise<T | undefined>): Promise<T> => {
    let last = ''
    for (;;) {
      checkAlive()
      try {
        const value = await fn()
        if (value !== undefined) return value
      } catch (err) {
        last = (err as Error).message
      }
      if (Date.now() > deadline) failWith(`timed out waiting for ${what}${last ? ` (${last})` : ''}`, names)
      await sleep(250)
    }
  }

  try {
    // --- network: the node's address on a dummy link; forwarding for pod traffic ---
    // A dummy link; kernels built without the dummy driver (like this machine's) get a bridge
    // with no ports instead, which holds a local address just the same.
    if (!sh('ip', ['link', 'add', DEFAULTS.link, 'type', 'dummy'], { allowFail: true }) && !existsSync(`/sys/class/net/${DEFAULTS.link}`)) {
      sh('ip', ['link', 'add', DEFAULTS.link, 'type', 'bridge'])
    }
    sh('ip', ['addr', 'add', `${DEFAULTS.nodeIP}/32`, 'dev', DEFAULTS.link])
    sh('ip', ['link', 'set', DEFAULTS.link, 'up'])
    for (const [path, value] of [
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      ['/proc/sys/net/bridge/bridge-nf-call-iptables', '1'],
    ] as const) {
      const old = readText(path)?.trim()
      if (old !== undefined && old !== value) {
        state.sysctls[path] = old
        saveState(state)
        writeFileSync(path, value)
      }
    }
    phase('network')

    // --- certificates, keys, kubeconfigs ---
    const pki = newCa(dirs.pki)
    const server = `https://${DEFAULTS.nodeIP}:${DEFAULTS.apiPort}`
    const apiserverCert = issue(pki, 'apiserver', '/CN=kube-apiserver', [
      `IP:${DEFAULTS.nodeIP}`,
      `IP:${DEFAULTS.apiServiceIP}`,
      'IP:127.0.0.1',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      `DNS:kubernetes.default.svc.${DEFAULTS.clusterDomain}`,
      'DNS:localhost',
    ])
    const kc = (name: string, subject: string, user: string) =>
      kubeconfig(join(dirs.etc, `${name}.kubeconfig`), server, pki.ca, issue(pki, name, subject), user)
    const adminKubeconfig = kc('admin', '/O=system:masters/CN=e2e-admin', 'e2e-admin')
    const kubeletClient = issue(pki, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client')
    const cmKubeconfig = kc('kube-controller-manager', '/CN=system:kube-controller-manager', 'system:kube-controller-manager')
    const schedKubeconfig = kc('kube-scheduler', '/CN=system:kube-scheduler', 'system:kube-scheduler')
    const kubeletKubeconfig = kc('kubelet', `/O=system:nodes/CN=system:node:${DEFAULTS.nodeName}`, `system:node:${DEFAULTS.nodeName}`)
    const proxyKubeconfig = kc('kube-proxy', '/CN=system:kube-proxy', 'system:kube-proxy')
    const corednsKubeconfig = kc('coredns', '/CN=system:coredns', 'system:coredns')
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const saKey = join(dirs.pki, 'sa.key')
    const saPub = join(dirs.pki, 'sa.pub')
    writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }))
    phase('certificates')

    // --- containerd (with CNI configuration), etcd ---
    const socket = join(dirs.containerd, 'containerd.sock')
    writeFileSync(
      join(dirs.cniConf, '10-monero-operator-e2e.conflist'),
      JSON.stringify(
        {
          cniVersion: '0.4.0',
          name: DEFAULTS.cniNetwork,
          plugins: [
            {
              type: 'bridge',
              bridge: DEFAULTS.bridge,
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: {
                type: 'host-local',
                ranges: [[{ subnet: DEFAULTS.podCIDR }]],
                routes: [{ dst: '0.0.0.0/0' }],
                dataDir: dirs.cniIpam,
              },
            },
            { type: 'portmap', capabilities: { portMappings: true } },
          ],
        },
        null,
        2,
      ),
    )
    const images = found.images
    // containerd's root (images, snapshots) stays in the cache between runs, so a warm start
    // imports nothing and teardown removes little; CLUSTER_CONTAINERD_ROOT=run puts it in the
    // run directory instead (imported and removed every run).
    const containerdRoot = process.env.CLUSTER_CONTAINERD_ROOT === 'run' ? join(dirs.containerd, 'root') : join(cacheDir(), 'containerd')
    mkdirSync(containerdRoot, { recursive: true })
    // The Node base is only a build stage of our image; pods never run it.
    const wanted = opts.images ?? Object.keys(images).filter((role) => role !== 'node-base')
    const pauseRef = images.pause?.ref
    if (!pauseRef) throw new Error('images.json has no pause image; run e2e/cluster/images.sh')
    const containerdConfig = join(dirs.etc, 'containerd.toml')
    writeFileSync(
      containerdConfig,
      `version = 2
root = "${containerdRoot}"
state = "${join(dirs.containerd, 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dirs.containerd, 'opt')}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseRef}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dirs.cniConf}"
    max_conf_num = 1
`,
    )
    startProcess('containerd', binaries.containerd, ['--config', containerdConfig, '--log-level', 'warn'])
    const etcdUrl = 'http://127.0.0.1:23790'
    startProcess('etcd', binaries.etcd, [
      '--name=e2e',
      `--data-dir=${join(DEFAULTS.etcdDir, 'data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      '--listen-peer-urls=http://127.0.0.1:23800',
      '--initial-advertise-peer-urls=http://127.0.0.1:23800',
      '--initial-cluster=e2e=http://127.0.0.1:23800',
      '--logger=zap',
      '--log-level=warn',
    ])
    const ctr = (args: string[], timeoutMs = 300_000) =>
      new Promise<string>((resolveRun, reject) => {
        const child = spawn(binaries.ctr, ['--address', socket, '--namespace', 'k8s.io', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        child.stdout.on('data', (d: Buffer) => (out += d.toString()))
        child.stderr.on('data', (d: Buffer) => (err += d.toString()))
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        child.on('exit', (code) => {
          clearTimeout(timer)
          if (code === 0) resolveRun(out)
          else reject(new Error(`ctr ${args.join(' ')}: ${err.trim()}`))
        })
      })
    await waitFor('containerd', ['containerd'], async () => {
      if (!existsSync(socket)) return undefined
      await ctr(['version'], 10_000)
      return true
    })
    // containerd's root (images, snapshots) is a cache kept between runs; containers of an
    // earlier run (their processes, mounts and network namespaces are gone) are forgotten here
    // so that the kubelet starts from an empty node.
    const stale = (await ctr(['containers', 'ls', '-q'])).split('\n').filter(Boolean)
    if (stale.length) {
      // (Normally the teardown already did this; this is after a crash.) The CRI plugin loaded
      // them at start-up, so containerd restarts with them gone.
      await ctr(['containers', 'rm', ...stale])
      killAll([children.get('containerd')!.pid], 10_000, runDir)
      children.delete('containerd')
      rmSync(socket, { force: true })
      startProcess('containerd', binaries.containerd, ['--config', containerdConfig, '--log-level', 'warn'])
      await waitFor('containerd', ['containerd'], async () => {
        if (!existsSync(socket)) return undefined
        await ctr(['version'], 10_000)
        return true
      })
    }
    phase(`containerd${stale.length ? ` (${stale.length} containers of an earlier run removed)` : ''}`)
    // Images load while the control plane starts; an archive already imported (its name
    // carries the hash of its inputs) is not imported again.
    const importStart = Date.now()
    const importedPath = join(containerdRoot, 'monero-operator-imported.json')
    let imported: Record<string, string> = {}
    try {
      imported = JSON.parse(readFileSync(importedPath, 'utf8')) as Record<string, string>
    } catch {
      // first run
    }
    const present = new Set((await ctr(['images', 'ls', '-q'])).split('\n').filter(Boolean))
    const importing = Promise.all(
      wanted.map(async (role) => {
        const image = images[role]
        if (!image) throw new Error(`no image "${role}" in images.json`)
        if (imported[image.ref] === image.archive && present.has(image.ref)) return
        await ctr(['images', 'import', image.archive])
        imported[image.ref] = image.archive
      }),
    ).then(() => {
      writeFileSync(importedPath, JSON.stringify(imported, null, 2))
      return Date.now() - importStart
    })
    importing.catch(() => {}) // awaited below

    // --- kube-apiserver ---
    startProcess('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${DEFAULTS.nodeIP}`,
      `--advertise-address=${DEFAULTS.nodeIP}`,
      `--secure-port=${DEFAULTS.apiPort}`,
      `--tls-cert-file=${apiserverCert.cert}`,
      `--tls-private-key-file=${apiserverCert.key}`,
      `--client-ca-file=${pki.ca}`,
      `--kubelet-client-certificate=${kubeletClient.cert}`,
      `--kubelet-client-key=${kubeletClient.key}`,
      '--kubelet-preferred-address-types=InternalIP',
      `--service-cluster-ip-range=${DEFAULTS.serviceCIDR}`,
      `--service-account-issuer=https://kubernetes.default.svc.${DEFAULTS.clusterDomain}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction,PodSecurity',
      '--allow-privileged=true',
      '--profiling=false',
      `--cert-dir=${join(dirs.pki, 'apiserver-generated')}`,
    ])
    const kubeConfig = new KubeConfig()
    kubeConfig.loadFromFile(adminKubeconfig)
    const core = kubeConfig.makeApiClient(CoreV1Api)
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig)
    // /readyz includes the bootstrap RBAC roles the controller manager and scheduler need.
    const readyz = () =>
      new Promise<string>((resolveGet, reject) => {
        const req = httpsRequest(
          `${server}/readyz`,
          { ca: readFileSync(pki.ca), cert: readFileSync(join(dirs.pki, 'admin.crt')), key: readFileSync(join(dirs.pki, 'admin.key')), timeout: 5_000 },
          (res) => {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (d: string) => (body += d))
            res.on('end', () => (res.statusCode === 200 ? resolveGet(body) : reject(new Error(`/readyz ${res.statusCode}: ${body.slice(0, 300)}`))))
          },
        )
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', reject)
        req.end()
      })
    await waitFor('kube-apiserver /readyz', ['kube-apiserver', 'etcd'], async () => ((await readyz()) ? true : undefined))
    phase('kube-apiserver')

    // --- controller manager, scheduler, kubelet, kube-proxy, CoreDNS ---
    const authArgs = (kubeconfigPath: string) => [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      `--bind-address=${DEFAULTS.nodeIP}`,
    ]
    startProcess('kube-controller-manager', binaries.kubeControllerManager, [
      ...authArgs(cmKubeconfig),
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${pki.ca}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${DEFAULTS.serviceCIDR}`,
      '--controllers=*',
      '--profiling=false',
    ])
    startProcess('kube-scheduler', binaries.kubeScheduler, [...authArgs(schedKubeconfig), '--profiling=false'])

    const kubeletConfig = join(dirs.etc, 'kubelet.yaml')
    writeFileSync(
      kubeletConfig,
      JSON.stringify(
        {
          apiVersion: 'kubelet.config.k8s.io/v1beta1',
          kind: 'KubeletConfiguration',
          cgroupDriver: 'cgroupfs',
          failCgroupV1: false,
          containerRuntimeEndpoint: `unix://${socket}`,
          address: DEFAULTS.nodeIP,
          healthzBindAddress: DEFAULTS.nodeIP,
          readOnlyPort: 0,
          authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.ca } },
          authorization: { mode: 'Webhook' },
          clusterDNS: [DEFAULTS.dnsServiceIP],
          clusterDomain: DEFAULTS.clusterDomain,
          resolvConf: '',
          failSwapOn: false,
          rotateCertificates: false,
          serverTLSBootstrap: false,
          podLogsDir: join(runDir, 'pod-logs'),
          volumePluginDir: join(dirs.kubelet, 'volume-plugins'),
          // Tests must not lose images or pods to disk-usage heuristics of a shared machine.
          imageGCHighThresholdPercent: 100,
          evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
          maxPods: 110,
        },
        null,
        2,
      ),
    )
    startProcess('kubelet', binaries.kubelet, [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${kubeletKubeconfig}`,
      `--root-dir=${dirs.kubelet}`,
      `--cert-dir=${join(dirs.kubelet, 'pki')}`,
      `--hostname-override=${DEFAULTS.nodeName}`,
      `--node-ip=${DEFAULTS.nodeIP}`,
      '--v=1',
    ])

    writeFileSync(
      state.proxyConfig!,
      JSON.stringify(
        {
          apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
          kind: 'KubeProxyConfiguration',
          mode: 'iptables',
          clientConnection: { kubeconfig: proxyKubeconfig },
          hostnameOverride: DEFAULTS.nodeName,
          bindAddress: DEFAULTS.nodeIP,
          healthzBindAddress: `${DEFAULTS.nodeIP}:10256`,
          metricsBindAddress: `${DEFAULTS.nodeIP}:10249`,
          clusterCIDR: '10.244.0.0/16',
          nodePortAddresses: [`${DEFAULTS.nodeIP}/32`],
          // 0: leave the host's conntrack sysctls alone.
          conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
          iptables: { localhostNodePorts: false, masqueradeAll: false },
        },
        null,
        2,
      ),
    )
    startProcess('kube-proxy', binaries.kubeProxy, [`--config=${state.proxyConfig}`])

    // CoreDNS: cluster names from the apiserver, everything else NXDOMAIN (no upstream here).
    const corefile = join(dirs.etc, 'Corefile')
    const port = DEFAULTS.corednsPort
    writeFileSync(
      corefile,
      `${DEFAULTS.clusterDomain}:${port} in-addr.arpa:${port} ip6.arpa:${port} {
    bind ${DEFAULTS.nodeIP}
    errors
    kubernetes ${DEFAULTS.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${corednsKubeconfig} e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    loadbalance
}
.:${port} {
    bind ${DEFAULTS.nodeIP}
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`,
    )
    // Its RBAC, the kube-dns Service and its endpoints (the node's address), storage.
    const apply = async (obj: KubernetesObject) => {
      try {
        await objects.create(obj)
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err
      }
    }
    await waitFor('the bootstrap RBAC and the kube-system namespace', ['kube-apiserver'], async () =>
      (await core.readNamespace({ name: 'kube-system' })) ? true : undefined,
    )
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject)
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
    } as KubernetesObject)
    startProcess('coredns', binaries.coredns, ['-conf', corefile])
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: DEFAULTS.dnsServiceIP,
        ports: [
          { name: 'dns', protocol: 'UDP', port: 53, targetPort: port },
          { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: port },
        ],
      },
    } as KubernetesObject)
    await apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kube-dns-host',
        namespace: 'kube-system',
        labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'monero-operator-e2e' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [DEFAULTS.nodeIP], conditions: { ready: true }, nodeName: DEFAULTS.nodeName }],
      ports: [
        { name: 'dns', protocol: 'UDP', port },
        { name: 'dns-tcp', protocol: 'TCP', port },
      ],
    } as KubernetesObject)
    await apply({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: DEFAULTS.storageClass, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Retain',
    } as KubernetesObject)
    const volumeCount = opts.localVolumes ?? DEFAULTS.localVolumes
    for (let i = 0; i < volumeCount; i++) {
      const name = `local-pv-${String(i).padStart(2, '0')}`
      const path = join(dirs.volumes, name)
      mkdirSync(path, { recursive: true })
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, labels: { 'monero-operator.e2e/local-volume': 'true' } },
        spec: {
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteOnce'],
          volumeMode: 'Filesystem',
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: DEFAULTS.storageClass,
          local: { path },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [DEFAULTS.nodeName] }] }],
            },
          },
        },
      } as KubernetesObject)
    }
    phase('control plane, node agents, DNS service, storage objects')

    const importMs = await importing
    log(`cluster: images (${wanted.join(', ')}) imported in ${(importMs / 1000).toFixed(1)} s, overlapping the phases above`)
    phaseStart = Date.now()

    await waitFor(`node ${DEFAULTS.nodeName} Ready`, ['kubelet', 'containerd'], async () => {
      const node = await core.readNode({ name: DEFAULTS.nodeName })
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined
    })
    phase('node Ready')
    const resolver = new dns.Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([`${DEFAULTS.nodeIP}:${port}`])
    await waitFor('CoreDNS to resolve kubernetes.default', ['coredns'], async () => {
      const addrs = await resolver.resolve4(`kubernetes.default.svc.${DEFAULTS.clusterDomain}`)
      return addrs.includes(DEFAULTS.apiServiceIP) ? true : undefined
    })
    await waitFor('the default ServiceAccount', ['kube-controller-manager'], async () =>
      (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })) ? true : undefined,
    )
    phase('CoreDNS, service accounts')
    log(`cluster: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (kubeconfig ${adminKubeconfig})`)

    const imageRefs = Object.fromEntries(wanted.map((role) => [role, images[role]!.ref]))
    let stopped: Promise<void> | undefined
    return {
      kubeconfigPath: adminKubeconfig,
      kubeConfig,
      server,
      nodeName: DEFAULTS.nodeName,
      nodeIP: DEFAULTS.nodeIP,
      storageClass: DEFAULTS.storageClass,
      images: imageRefs,
      runDir,
      stop: () =>
        (stopped ??= (async () => {
          exitHooks = undefined
          teardownSync(runDir, { keepDir, log })
        })()),
    }
  } catch (err) {
    log(`cluster: start-up failed, tearing down`)
    exitHooks = undefined
    teardownSync(runDir, { keepDir: true, log })
    throw err
  }
}

/**
 * The cluster a detached `main.js up` left running, as a {@link Cluster} whose stop() leaves it
 * running; undefined when there is none. Lets several test runs share one cluster:
 * `node dist/e2e/cluster/main.js up`, the tests, then `main.js down`.
 */
export function attachCluster(): Cluster | undefined {
  const runDir = DEFAULTS.runDir
  const text = readText(statePath(runDir))
  if (!text) return undefined
  const state = JSON.parse(text) as RunState
  const apiserverPid = state.pids['kube-apiserver']
  if (!state.detached || !apiserverPid || !alive(apiserverPid, runDir)) return undefined
  const kubeconfigPath = join(runDir, 'etc', 'admin.kubeconfig')
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(kubeconfigPath)
  const found = findClusterBinaries()
  const images = found.ok ? Object.fromEntries(Object.entries(found.images).map(([role, image]) => [role, image.ref])) : {}
  return {
    kubeconfigPath,
    kubeConfig,
    server: `https://${DEFAULTS.nodeIP}:${DEFAULTS.apiPort}`,
    nodeName: DEFAULTS.nodeName,
    nodeIP: DEFAULTS.nodeIP,
    storageClass: DEFAULTS.storageClass,
    images,
    runDir,
    stop: async () => {},
  }
}
