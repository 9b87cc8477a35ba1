/**
 * A throwaway Kubernetes control plane (etcd + kube-apiserver on loopback) for the
 * real-apiserver test tier. No controller manager, scheduler or kubelet: objects are
 * stored, validated, defaulted and admitted exactly as a real cluster would, but
 * nothing reconciles them. Each test file may start its own; start-up takes seconds.
 *
 * Binaries are found in this order (build.sh honours the same variables; a set *_BIN is
 * used alone, never skipped over):
 *   kube-apiserver: $KUBE_APISERVER_BIN, $KUBEBUILDER_ASSETS/kube-apiserver,
 *                   ${MONERO_OPERATOR_CACHE:-<repo>/.cache}/kube-apiserver-<version>/kube-apiserver
 *   etcd:           $ETCD_BIN, $KUBEBUILDER_ASSETS/etcd, /usr/bin/etcd, etcd on $PATH
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubeConfig } from '@kubernetes/client-node'

/** Options of {@link startControlPlane}; every field is optional. */
export interface ControlPlaneOptions {
  /** How long to wait for `/readyz` before giving up (default 120 s). */
  readyTimeoutMs?: number
  /** Extra kube-apiserver flags, appended last so they override the defaults. */
  apiserverArgs?: string[]
  /** Where the per-run directory is created (default: /dev/shm when usable, else the OS temp dir). */
  baseDir?: string
  /** Keep the run directory (logs, etcd data) after stop(), for debugging. Also env KEEP_CONTROL_PLANE=1. */
  keepDir?: boolean
  /** Progress messages (default: silent). */
  log?: (message: string) => void
}

/** A running control plane; call {@link ControlPlane.stop} when done. */
export interface ControlPlane {
  /** Loaded KubeConfig for the admin user (member of system:masters). */
  kubeConfig: KubeConfig
  /** Path of the same kubeconfig on disk, e.g. for `kubectl --kubeconfig`. */
  kubeconfigPath: string
  /** `https://127.0.0.1:<port>` */
  server: string
  /** Bearer token of the admin user. */
  token: string
  /** The run directory: kubeconfig, keys, certs, etcd data, *.log. */
  dir: string
  /** Kills kube-apiserver and etcd and removes the run directory. Idempotent. */
  stop(): Promise<void>
}

/** The binaries a control plane needs, or why they cannot be found. */
export type ControlPlaneBinaries = { ok: true; kubeApiserver: string; etcd: string } | { ok: false; missing: string[]; hint: string }

const here = dirname(fileURLToPath(import.meta.url))

/** The repository root: the nearest ancestor holding e2e/apiserver/tools/go.mod (works from dist/ too). */
function repoRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'e2e', 'apiserver', 'tools', 'go.mod'))) return dir
    if (dirname(dir) === dir) return resolve(here, '..', '..')
  }
}

/** The k8s.io/kubernetes version pinned in e2e/apiserver/tools/go.mod, e.g. `v1.34.4`. */
export function pinnedKubernetesVersion(): string {
  const goMod = readFileSync(join(repoRoot(), 'e2e', 'apiserver', 'tools', 'go.mod'), 'utf8')
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(goMod)
  if (!match?.[1]) throw new Error('no k8s.io/kubernetes requirement in e2e/apiserver/tools/go.mod')
  return match[1]
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name)
  }
  return undefined
}

/** Locates kube-apiserver and etcd without starting anything. */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const assets = env.KUBEBUILDER_ASSETS
  const cache = env.MONERO_OPERATOR_CACHE || join(repoRoot(), '.cache')
  // An explicit *_BIN wins outright: a typo there must not silently fall back to another binary.
  const apiserverCandidates = env.KUBE_APISERVER_BIN
    ? [env.KUBE_APISERVER_BIN]
    : [assets && join(assets, 'kube-apiserver'), join(cache, `kube-apiserver-${pinnedKubernetesVersion()}`, 'kube-apiserver')]
  const etcdCandidates = env.ETCD_BIN ? [env.ETCD_BIN] : [assets && join(assets, 'etcd'), '/usr/bin/etcd', onPath('etcd')]
  const kubeApiserver = apiserverCandidates.find((p): p is string => !!p && isExecutable(p))
  const etcd = etcdCandidates.find((p): p is string => !!p && isExecutable(p))
  if (kubeApiserver && etcd) return { ok: true, kubeApiserver, etcd }
  const missing = [
    ...(kubeApiserver ? [] : [`kube-apiserver (looked at: ${apiserverCandidates.filter(Boolean).join(', ')})`]),
    ...(etcd ? [] : [`etcd (looked at: ${etcdCandidates.filter(Boolean).join(', ')}${env.ETCD_BIN ? '' : ', $PATH'})`]),
  ]
  return {
    ok: false,
    missing,
    hint: 'run `bash e2e/apiserver/build.sh`, or set KUBE_APISERVER_BIN / ETCD_BIN / KUBEBUILDER_ASSETS',
  }
}

/** True when env CI is set to anything but "", "0" or "false". */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.CI && env.CI !== '0' && env.CI !== 'false'
}

/**
 * Gate for a test file of this tier: true when the binaries are there. Otherwise, on a
 * developer machine the whole file is skipped with a message saying how to get them; under
 * CI (env CI set) missing binaries fail the file instead, so the tier cannot silently vanish.
 *
 * ```ts
 * if (binariesAvailable(t)) { t.test(...) }
 * ```
 */
export function binariesAvailable(
  t: { plan(n: number, comment?: string): void; fail(message: string): unknown },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const found = findBinaries(env)
  if (found.ok) return true
  const message = `real-apiserver tier: missing ${found.missing.join('; ')}; ${found.hint}`
  if (isCI(env)) t.fail(`${message} (CI is set, so this is a failure, not a skip)`)
  else t.plan(0, message)
  return false
}

/** Starts a control plane and registers `stop()` as teardown of a tap test (or anything with `teardown`). */
export async function setupControlPlane(t: { teardown(fn: () => unknown): void }, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const cp = await startControlPlane(opts)
  t.teardown(() => cp.stop())
  return cp
}

// --- process bookkeeping ------------------------------------------------------

interface Running {
  dir: string
  keepDir: boolean
  children: ChildProcess[]
}

const running = new Set<Running>()
let hooksInstalled = false

/** Synchronous last-resort cleanup: on exit only synchronous work runs. */
function killAllSync(): void {
  for (const run of running) {
    for (const child of run.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    if (!run.keepDir) rmSync(run.dir, { recursive: true, force: true })
  }
  running.clear()
}

function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync()
      // Re-raise so the exit status says "killed by signal", as it would without this hook.
      process.kill(process.pid, signal)
    })
  }
}

const RUN_PREFIX = 'monero-operator-apiserver-'

/**
 * Removes run directories left by test processes that were SIGKILLed (their exit hooks never
 * ran), and kills their etcd/kube-apiserver, which are recognised by the run directory in
 * their command line, so an unrelated process that reused the pid is never touched.
 */
function reapStaleRuns(baseDir: string): void {
  let entries: string[]
  try {
    entries = readdirSync(baseDir).filter((name) => name.startsWith(RUN_PREFIX))
  } catch {
    return
  }
  for (const name of entries) {
    const dir = join(baseDir, name)
    let owner: number
    let pids: number[]
    try {
      const info = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { owner: number; pids: number[] }
      owner = info.owner
      pids = info.pids
    } catch {
      continue // being created right now, or not ours
    }
    if (existsSync(`/proc/${owner}`)) continue
    for (const pid of pids) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

// --- helpers ------------------------------------------------------------------

/** Asks the kernel for a free loopback port. Another process may take it before we bind, hence the retry in startControlPlane. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/** Last `lines` lines of a log file, for error messages. */
async function tail(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, 'utf8')
    return text.trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** GET path with a bearer token, ignoring the serving certificate (only used before the CA is known). */
function probe(server: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveProbe, reject) => {
    const req = request(new URL(path, server), { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolveProbe({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

/** Waits until the child exits (true) or `ms` elapse (false). */
function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolveExit(true)
    })
  })
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (!(await waitForExit(child, 10_000))) {
    child.kill('SIGKILL')
    await waitForExit(child, 5_000)
  }
}

/**
 * The CA that signed the apiserver's self-generated serving certificate. kube-apiserver writes
 * `<cert-dir>/apiserver.crt` as the serving certificate followed by its CA.
 */
function selfSignedCa(certDir: string): string | undefined {
  try {
    const pem = readFileSync(join(certDir, 'apiserver.crt'), 'utf8')
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
    return blocks && blocks.length > 1 ? `${blocks[blocks.length - 1]}\n` : undefined
  } catch {
    return undefined
  }
}

function defaultBaseDir(): string {
  // etcd fsyncs every write; on tmpfs that is free, which makes start-up and tests faster.
  try {
    accessSync('/dev/shm', constants.W_OK)
    return '/dev/shm'
  } catch {
    return tmpdir()
  }
}

function renderKubeconfig(server: string, token: string, ca: string | undefined): string {
  const cluster = ca ? { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } : { server, 'insecure-skip-tls-verify': true }
  // JSON is valid YAML; KubeConfig and kubectl both read it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'apiserver-test', cluster }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'apiserver-test', context: { cluster: 'apiserver-test', user: 'admin', namespace: 'default' } }],
      'current-context': 'apiserver-test',
    },
    null,
    2,
  )
}

// --- the control plane ----------------------------------------------------------

class StartupError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message)
  }
}

/**
 * Starts etcd and kube-apiserver on free loopback ports in a fresh directory and resolves
 * once `/readyz` answers `ok`. Rejects (with the tails of both logs) if a process dies or the
 * deadline passes; everything started is cleaned up in that case.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = findBinaries()
  if (!binaries.ok) throw new Error(`cannot start control plane: missing ${binaries.missing.join('; ')}; ${binaries.hint}`)
  const baseDir = opts.baseDir ?? defaultBaseDir()
  reapStaleRuns(baseDir)
  // A port picked as free can be taken before etcd or the apiserver binds it (tests run in parallel).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binaries, baseDir, opts)
    } catch (err) {
      if (!(err instanceof StartupError && err.portClash && attempt < 3)) throw err
      opts.log?.(`control plane: port clash, retrying (attempt ${attempt + 1})`)
    }
  }
}

async function startOnce(binaries: { kubeApiserver: string; etcd: string }, baseDir: string, opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {})
  const keepDir = opts.keepDir ?? process.env.KEEP_CONTROL_PLANE === '1'
  const started = Date.now()
  const dir = mkdtempSync(join(baseDir, RUN_PREFIX))
  const run: Running = { dir, keepDir, children: [] }
  running.add(run)
  installExitHooks()

  const [etcdClientPort, etcdPeerPort, securePort] = (await distinctFreePorts(3)) as [number, number, number]
  const server = `https://127.0.0.1:${securePort}`
  const token = randomBytes(24).toString('hex')
  const certDir = join(dir, 'certs')
  const etcdLog = join(dir, 'etcd.log')
  const apiserverLog = join(dir, 'kube-apiserver.log')

  // Service-account token signing key. EC P-256 generates in a millisecond (RSA takes ~100 ms).
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }))
  // Static token file: token,user,uid,"groups". system:masters bypasses RBAC.
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 })

  const spawnLogged = async (bin: string, args: string[], logPath: string): Promise<ChildProcess> => {
    const file = await open(logPath, 'a')
    const child = spawn(bin, args, { stdio: ['ignore', file.fd, file.fd], cwd: dir })
    await file.close() // the child holds its own copy of the descriptor
    run.children.push(child)
    child.on('error', () => {}) // reported through exitCode / the log
    return child
  }

  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`
  const etcd = await spawnLogged(
    binaries.etcd,
    [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--logger=zap',
      '--log-level=warn',
    ],
    etcdLog,
  )

  // No controller manager runs: nothing creates service-account tokens, so the ServiceAccount
  // admission plugin (which waits for them) is off. Everything else is the stock default set.
  const apiserver = await spawnLogged(
    binaries.kubeApiserver,
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      '--profiling=false',
      ...(opts.apiserverArgs ?? []),
    ],
    apiserverLog,
  )
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ owner: process.pid, pids: [etcd.pid, apiserver.pid] }))

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await terminate(apiserver)
      await terminate(etcd)
      running.delete(run)
      if (!keepDir) rmSync(dir, { recursive: true, force: true })
    })())

  const fail = async (reason: string): Promise<never> => {
    const logs = `--- kube-apiserver.log (tail) ---\n${await tail(apiserverLog)}\n--- etcd.log (tail) ---\n${await tail(etcdLog)}`
    const portClash = /address already in use/i.test(logs)
    await stop()
    throw new StartupError(`control plane did not start: ${reason}\n${logs}`, portClash)
  }

  const deadline = started + (opts.readyTimeoutMs ?? 120_000)
  let last = 'no answer yet'
  for (;;) {
    for (const [name, child] of [
      ['etcd', etcd],
      ['kube-apiserver', apiserver],
    ] as const) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await fail(`${name} exited (code ${child.exitCode}, signal ${child.signalCode})`)
      }
    }
    try {
      const res = await probe(server, '/readyz', token)
      if (res.status === 200) break
      last = `/readyz ${res.status}: ${
        res.body
          .split('\n')
          .filter((l) => l.includes('[-]'))
          .join(' ') || res.body.slice(0, 200)
      }`
    } catch (err) {
      last = `/readyz: ${(err as Error).message}`
    }
    if (Date.now() > deadline) await fail(`not ready after ${opts.readyTimeoutMs ?? 120_000} ms (${last})`)
    await sleep(200)
  }

  const kubeconfigPath = join(dir, 'kubeconfig')
  writeFileSync(kubeconfigPath, renderKubeconfig(server, token, selfSignedCa(certDir)), { mode: 0o600 })
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(kubeconfigPath)
  log(`control plane ready at ${server} in ${Date.now() - started} ms (dir ${dir})`)
  return { kubeConfig, kubeconfigPath, server, token, dir, stop }
}
