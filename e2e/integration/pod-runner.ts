/**
 * Test harness: runs a rendered pod spec on this machine the way a kubelet would, so the
 * integration tier runs exactly what the hooks render: no arg, config or name is rewritten.
 *
 * - Network: every pod gets its own network namespace (`ip netns`), joined by a veth pair to a
 *   bridge the test creates, with an address of a private /24. Names resolve through the real
 *   resolver: `ip netns exec` bind-mounts /etc/netns/<ns>/hosts and resolv.conf over /etc, and
 *   the hosts file lists what the cluster's DNS would answer (the members' Services); the
 *   resolv.conf points to a name server nobody runs, so any other name fails at once.
 * - Containers: each one runs under bubblewrap with its image's root (a directory) as /,
 *   through a fresh overlay (the container's writable layer), with every volumeMount of the
 *   spec bind-mounted at its mountPath: ConfigMaps as kubelet lays them out (`..data` symlink
 *   swapped atomically on update), emptyDirs as fresh directories of the pod, claim templates
 *   as directories kept across pods. uid/gid/fsGroup, dropped capabilities, no-new-privs and
 *   read-only root come from the securityContext (setpriv inside the sandbox).
 * - Lifecycle: init containers in order to completion; init containers with
 *   `restartPolicy: Always` (native sidecars) in the background, waiting for their
 *   startupProbe; then the containers. An exited container is restarted like kubelet does
 *   (init containers are not run again; sidecars keep running). Probes: httpGet and
 *   tcpSocket from the host side to the pod address, exec inside the container (nsenter).
 *
 * Anything in a spec that this runner cannot run as written is an error with the field's
 * name, never silently dropped. Needs root, `ip` (iproute2), `bwrap` (bubblewrap), `nsenter`
 * and `setpriv` (util-linux, in the host and in every image root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { V1Container, V1PodSpec, V1Probe, V1Volume } from '@kubernetes/client-node'

/** Runs a command to completion; throws with its output when it fails. */
export function sh(cmd: string, args: readonly string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, input: opts.input })
  if (!opts.allowFail && (r.error || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error ? String(r.error) : `exit ${r.status}`}\n${r.stdout}${r.stderr}`)
  }
  return r.stdout ?? ''
}

/** Why this machine cannot run pods (missing root or tools), or undefined when it can. */
export function podRunnerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, bridges, mounts)'
  const tools: [string, string[], string][] = [
    ['ip', ['-V'], 'iproute2'],
    ['bwrap', ['--version'], 'bubblewrap'],
    ['nsenter', ['--version'], 'util-linux'],
    ['setpriv', ['--version'], 'util-linux'],
  ]
  const absent = tools.filter(([bin, args]) => {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 })
    return r.error !== undefined || r.status !== 0
  })
  if (absent.length > 0) return `${absent.map((a) => a[0]).join(', ')} not found (apt-get install -y ${[...new Set(absent.map((a) => a[2]))].join(' ')})`
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Network: a bridge, one namespace per pod, hosts files as the cluster's DNS.

export interface PodNetHost {
  /** Network namespace name (also the /etc/netns/<ns> directory). */
  readonly ns: string
  readonly ip: string
}

/**
 * A private /24 on a bridge of its own. All names (bridge, veths, namespaces) start with
 * `prefix`; the host side of the bridge gets `<subnet>.254` so probes and tests reach pods.
 */
export class PodNetwork {
  readonly bridge: string
  readonly hostIp: string
  private readonly hosts = new Map<number, PodNetHost>()

  constructor(
    readonly prefix: string,
    /** First three octets, e.g. `10.213.42`. */
    readonly subnet: string,
  ) {
    if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix))
      throw new Error(`PodNetwork: prefix ${prefix} must be 2-8 lowercase letters/digits (interface names are at most 15 bytes)`)
    this.bridge = `${prefix}br`
    this.hostIp = `${subnet}.254`
  }

  nsName(index: number): string {
    return `${this.prefix}-${index}`
  }

  /** Creates the bridge (removing leftovers of an earlier run with the same prefix first). */
  create(): void {
    this.destroy()
    const used = sh('ip', ['-4', '-o', 'addr', 'show'])
    if (used.includes(` ${this.subnet}.`)) throw new Error(`PodNetwork: ${this.subnet}.0/24 is already in use on this machine:\n${used}`)
    sh('ip', ['link', 'add', this.bridge, 'type', 'bridge'])
    sh('ip', ['addr', 'add', `${this.hostIp}/24`, 'dev', this.bridge])
    sh('ip', ['link', 'set', this.bridge, 'up'])
  }

  /** A namespace with loopback up and `eth0` at `<subnet>.<index + 1>`. */
  addHost(index: number): PodNetHost {
    if (index < 0 || index > 200) throw new Error(`PodNetwork: index ${index} out of range`)
    const ns = this.nsName(index)
    const ip = `${this.subnet}.${index + 1}`
    const outer = `${this.prefix}h${index}`
    const inner = `${this.prefix}p${index}`
    sh('ip', ['netns', 'add', ns])
    mkdirSync(`/etc/netns/${ns}`, { recursive: true })
    // Until the test writes the real ones: a namespace never sees the machine's own files.
    writeFileSync(`/etc/netns/${ns}/hosts`, '127.0.0.1 localhost\n')
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\n')
    sh('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner])
    sh('ip', ['link', 'set', outer, 'master', this.bridge])
    sh('ip', ['link', 'set', outer, 'up'])
    sh('ip', ['link', 'set', inner, 'netns', ns])
    sh('ip', ['-n', ns, 'link', 'set', inner, 'name', 'eth0'])
    sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    const host = { ns, ip }
    this.hosts.set(index, host)
    return host
  }

  /**
   * Rewrites a namespace's hosts file in place (same inode: the bind mounts of running
   * containers see the new content) and its resolv.conf, pointing to a server nobody runs,
   * with the search path kubelet gives a pod, so a name not in hosts fails at once.
   */
  setHosts(ns: string, entries: readonly { ip: string; names: readonly string[] }[], searchNamespace = 'default'): void {
    const text = `${['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...entries.map((e) => `${e.ip} ${e.names.join(' ')}`)].join('\n')}\n`
    writeFileSync(`/etc/netns/${ns}/hosts`, text)
    writeFileSync(
      `/etc/netns/${ns}/resolv.conf`,
      `search ${searchNamespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n`,
    )
  }

  /** Removes everything with this prefix: processes in its namespaces, namespaces, links, /etc/netns dirs. */
  destroy(): void {
    const nsList = sh('ip', ['netns', 'list'], { allowFail: true })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(`${this.prefix}-`))
    for (const ns of nsList) {
      const pids = sh('ip', ['netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean)
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {
          /* already gone */
        }
      }
      sh('ip', ['netns', 'del', ns], { allowFail: true })
    }
    const links = sh('ip', ['-o', 'link', 'show'], { allowFail: true })
    for (const m of links.matchAll(/^\d+: ([^:@]+)[:@]/gm)) {
      const name = m[1]!
      if (name.startsWith(this.prefix) && name !== this.bridge) sh('ip', ['link', 'del', name], { allowFail: true })
    }
    sh('ip', ['link', 'del', this.bridge], { allowFail: true })
    if (existsSync('/etc/netns')) {
      for (const d of readdirSync('/etc/netns')) if (d.startsWith(`${this.prefix}-`)) rmSync(`/etc/netns/${d}`, { recursive: true, force: true })
    }
    this.hosts.clear()
  }
}

// ---------------------------------------------------------------------------------------------
// Pods.

/** What an image reference stands for on this machine. */
export interface ImageSpec {
  /** Directory used as the image's root filesystem ("/" = this machine's). */
  root: string
  /** ENTRYPOINT and CMD of the image. */
  entrypoint: string[]
  cmd?: string[]
  /** WORKDIR (default /). */
  workdir?: string
  /** USER as uid:gid (default 0:0). */
  user?: { uid: number; gid: number }
  /** ENV of the image. */
  env?: Record<string, string>
  /** Content of the image that is not in `root` (e.g. the compiled repo at /app), read-only. */
  binds?: { src: string; dest: string }[]
}

export interface PodOptions {
  name: string
  namespace: string
  net: PodNetHost
  spec: V1PodSpec
  images: Record<string, ImageSpec>
  /** ConfigMap data by ConfigMap name. */
  configMaps?: Record<string, Record<string, string>>
  /** Host directory per volumeClaimTemplate name (a StatefulSet pod's claims): kept by the caller. */
  claims?: Record<string, string>
  /** The pod's own directory on the host (emptyDirs, ConfigMap copies, overlays, logs). */
  dir: string
  /** Terminations wait at most this long before SIGKILL (the spec's grace period is capped to it). */
  maxGraceSeconds?: number
  /** Called with each chunk a container writes. */
  onOutput?: (container: string, text: string) => void
}

export class PodError extends Error {
  constructor(pod: string, message: string) {
    super(`pod ${pod}: ${message}`)
    this.name = 'PodError'
  }
}

interface Mount {
  src: string
  dest: string
  readOnly: boolean
}

/** A container's state, as `kubectl get pod -o yaml` would show it. */
export interface ContainerState {
  name: string
  /** Starts so far (1 after the first start). */
  starts: number
  running: boolean
  /** pid (in this machine's pid namespace) of the container's first process. */
  pid?: number
  exits: { code: number | null; signal: NodeJS.Signals | null; at: number }[]
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

class ContainerRun implements ContainerState {
  starts = 0
  running = false
  pid?: number
  exits: ContainerState['exits'] = []
  proc?: ChildProcess
  exited?: Promise<void>
  log: string[] = []
  constructor(
    readonly name: string,
    readonly spec: V1Container,
    readonly kind: 'init' | 'sidecar' | 'main',
  ) {}
}

export class Pod {
  private readonly runs = new Map<string, ContainerRun>()
  private readonly volumeDirs = new Map<string, string>()
  private stopping = false
  private readonly supervisors: Promise<void>[] = []
  private readonly opts: PodOptions

  constructor(opts: PodOptions) {
    this.opts = opts
    mkdirSync(join(opts.dir, 'logs'), { recursive: true })
    this.checkSpec()
  }

  get name(): string {
    return this.opts.name
  }

  get spec(): V1PodSpec {
    return this.opts.spec
  }

  /** Fails on anything this runner would have to ignore. */
  private checkSpec(): void {
    const s = this.opts.spec
    const fail = (m: string) => {
      throw new PodError(this.opts.name, `cannot run as rendered: ${m}`)
    }
    if (s.hostNetwork) fail('spec.hostNetwork')
    if (s.shareProcessNamespace) fail('spec.shareProcessNamespace')
    const all = [
      ...(s.initContainers ?? []).map((c, i) => [`spec.initContainers[${i}]`, c] as const),
      ...s.containers.map((c, i) => [`spec.containers[${i}]`, c] as const),
    ]
    for (const [path, c] of all) {
      if (!this.opts.images[c.image ?? '']) fail(`${path}.image ${JSON.stringify(c.image)} is not mapped to a root on this machine`)
      if (c.envFrom?.length) fail(`${path}.envFrom`)
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        if (m.subPath || m.subPathExpr) fail(`${path}.volumeMounts[${j}].subPath`)
      }
      if (c.securityContext?.capabilities?.add?.length) fail(`${path}.securityContext.capabilities.add`)
      if (c.securityContext?.privileged) fail(`${path}.securityContext.privileged`)
      if (c.lifecycle) fail(`${path}.lifecycle`)
    }
  }

  private volume(name: string): V1Volume | undefined {
    return this.opts.spec.volumes?.find((v) => v.name === name)
  }

  private get fsGroup(): number | undefined {
    return this.opts.spec.securityContext?.fsGroup
  }

  /** Host directory of a volume, made on first use like kubelet does before any container. */
  private volumeDir(name: string): string {
    const known = this.volumeDirs.get(name)
    if (known) return known
    const v = this.volume(name)
    let dir: string
    const fsGroup = this.fsGroup
    const own = (d: string, mode: number) => {
      if (fsGroup !== undefined) {
        chownSync(d, 0, fsGroup)
        chmodSync(d, mode | 0o2070)
      } else chmodSync(d, mode)
    }
    if (v?.emptyDir) {
      dir = join(this.opts.dir, 'volumes', 'empty-dir', name)
      mkdirSync(dir, { recursive: true })
      own(dir, 0o777)
    } else if (v?.configMap) {
      const cmName = v.configMap.name ?? ''
      const data = this.opts.configMaps?.[cmName]
      if (!data && !v.configMap.optional) throw new PodError(this.opts.name, `volume ${name}: ConfigMap ${cmName} not given to the runner`)
      dir = join(this.opts.dir, 'volumes', 'configmap', name)
      mkdirSync(dir, { recursive: true })
      this.writeAtomic(dir, v, data ?? {})
    } else if (!v && this.opts.claims?.[name]) {
      dir = this.opts.claims[name]
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true })
        own(dir, 0o755)
      }
    } else if (!v) {
      throw new PodError(this.opts.name, `volumeMount ${name}: no such volume in spec.volumes and no claim directory given`)
    } else {
      throw new PodError(
        this.opts.name,
        `cannot run as rendered: volume ${name} is of a kind this runner does not implement (${Object.keys(v)
          .filter((k) => k !== 'name')
          .join(', ')})`,
      )
    }
    this.volumeDirs.set(name, dir)
    return dir
  }

  /**
   * kubelet's atomic writer: the files live in a timestamped directory; `..data` points to it
   * and is replaced by rename(2); each visible key is a symlink through `..data`.
   */
  private writeAtomic(dir: string, v: V1Volume, data: Record<string, string>): void {
    const cm = v.configMap!
    const mode = cm.defaultMode ?? 0o644
    const files: [string, string, number][] = cm.items
      ? cm.items.map((it) => [it.path, data[it.key] ?? '', it.mode ?? mode])
      : Object.entries(data).map(([k, text]) => [k, text, mode])
    const stamp = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${process.hrtime.bigint()}`
    const tsDir = join(dir, stamp)
    mkdirSync(tsDir)
    for (const [path, text, m] of files) {
      if (path.includes('/')) throw new PodError(this.opts.name, `volume ${v.name}: nested item path ${path} not implemented`)
      const f = join(tsDir, path)
      writeFileSync(f, text)
      if (this.fsGroup !== undefined) chownSync(f, 0, this.fsGroup)
      chmodSync(f, m)
    }
    chmodSync(tsDir, 0o755)
    const tmpLink = join(dir, '..data_tmp')
    rmSync(tmpLink, { force: true })
    symlinkSync(stamp, tmpLink)
    let old: string | undefined
    try {
      old = readdirSync(dir).find((e) => e.startsWith('..') && e !== '..data' && e !== '..data_tmp' && e !== stamp)
    } catch {
      old = undefined
    }
    renameSync(tmpLink, join(dir, '..data'))
    const wanted = new Set(files.map((f) => f[0]))
    for (const e of readdirSync(dir)) {
      if (e.startsWith('..')) continue
      if (!wanted.has(e)) rmSync(join(dir, e), { force: true })
    }
    for (const p of wanted) if (!existsSync(join(dir, p))) symlinkSync(join('..data', p), join(dir, p))
    if (old) rmSync(join(dir, old), { recursive: true, force: true })
  }

  /** A changed ConfigMap, written into every volume of this pod that shows it (what kubelet's sync does). */
  updateConfigMap(cmName: string, data: Record<string, string>): void {
    this.opts.configMaps = { ...this.opts.configMaps, [cmName]: data }
    for (const v of this.opts.spec.volumes ?? []) {
      if (v.configMap?.name !== cmName) continue
      const dir = this.volumeDirs.get(v.name)
      if (dir) this.writeAtomic(dir, v, data)
    }
  }

  private identity(c: V1Container): { uid: number; gid: number; groups: number[] } {
    const image = this.opts.images[c.image!]!
    const psc = this.opts.spec.securityContext ?? {}
    const csc = c.securityContext ?? {}
    const uid = csc.runAsUser ?? psc.runAsUser ?? image.user?.uid ?? 0
    const gid = csc.runAsGroup ?? psc.runAsGroup ?? image.user?.gid ?? 0
    if ((csc.runAsNonRoot ?? psc.runAsNonRoot) && uid === 0) {
      throw new PodError(this.opts.name, `container ${c.name}: runAsNonRoot but it would run as uid 0 (kubelet refuses to start it)`)
    }
    const groups = [gid, ...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])]
    return { uid, gid, groups: [...new Set(groups)] }
  }

  private env(c: V1Container): Record<string, string> {
    const image = this.opts.images[c.image!]!
    const { uid } = this.identity(c)
    const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: this.opts.name, HOME: uid === 0 ? '/root' : '/', ...image.env }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, n: string) => env[n] ?? all)
      else if (e.valueFrom?.fieldRef) {
        const f = e.valueFrom.fieldRef.fieldPath
        if (f === 'metadata.name') env[e.name] = this.opts.name
        else if (f === 'metadata.namespace') env[e.name] = this.opts.namespace
        else if (f === 'status.podIP') env[e.name] = this.opts.net.ip
        else throw new PodError(this.opts.name, `cannot run as rendered: container ${c.name} env ${e.name}: fieldRef ${f}`)
      } else if (e.valueFrom)
        throw new PodError(this.opts.name, `cannot run as rendered: container ${c.name} env ${e.name}: valueFrom ${Object.keys(e.valueFrom).join(', ')}`)
      else env[e.name] = ''
    }
    return env
  }

  private mounts(c: V1Container): Mount[] {
    return (c.volumeMounts ?? []).map((m) => ({ src: this.volumeDir(m.name), dest: m.mountPath, readOnly: m.readOnly === true }))
  }

  private argv(c: V1Container): string[] {
    const image = this.opts.images[c.image!]!
    const env = this.env(c)
    // $(VAR) in command and args expands from the container's env, as in Kubernetes.
    const expand = (a: string) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, n: string) => env[n] ?? all)
    const command = c.command ?? image.entrypoint
    const args = c.args ?? (c.command ? [] : (image.cmd ?? []))
    return [...command, ...args].map(expand)
  }

  /** setpriv in front of the command: the securityContext's identity, capabilities and no-new-privs. */
  private privileges(c: V1Container): string[] {
    const { uid, gid, groups } = this.identity(c)
    const csc = c.securityContext ?? {}
    const dropAll = csc.capabilities?.drop?.some((d) => d === 'ALL') ?? false
    return [
      'setpriv',
      `--reuid=${uid}`,
      `--regid=${gid}`,
      `--groups=${groups.join(',')}`,
      ...(csc.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
      ...(dropAll ? ['--inh-caps=-all', '--bounding-set=-all'] : []),
      '--',
    ]
  }

  private startContainer(run: ContainerRun): void {
    const c = run.spec
    const image = this.opts.images[c.image!]!
    run.starts++
    const layer = join(this.opts.dir, 'containers', `${c.name}-${run.starts}`)
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(layer, d), { recursive: true })
    const bw: string[] = [
      '--bind',
      join(layer, 'merged'),
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--ro-bind',
      '/sys',
      '/sys',
      // the namespace's files (ip netns exec has bound /etc/netns/<ns>/* over /etc)
      '--ro-bind',
      '/etc/hosts',
      '/etc/hosts',
      '--ro-bind',
      '/etc/resolv.conf',
      '/etc/resolv.conf',
      '--unshare-uts',
      '--hostname',
      this.opts.name,
    ]
    const mounts = [...(image.binds ?? []).map((b) => ({ ...b, readOnly: true })), ...this.mounts(c)]
    // Parents of mount points that the image lacks are made 0755, as container runtimes do
    // (bwrap alone would make them 0700, unreadable for a non-root user).
    const parents = new Set<string>()
    for (const m of mounts) {
      const parts = m.dest.split('/').filter(Boolean)
      for (let i = 1; i < parts.length; i++) parents.add(`/${parts.slice(0, i).join('/')}`)
    }
    for (const d of [...parents].sort()) if (!existsSync(join(image.root, d))) bw.push('--perms', '0755', '--dir', d)
    for (const m of mounts) bw.push(m.readOnly ? '--ro-bind' : '--bind', m.src, m.dest)
    if (c.securityContext?.readOnlyRootFilesystem) bw.push('--remount-ro', '/')
    bw.push('--chdir', c.workingDir ?? image.workdir ?? '/')
    bw.push('--clearenv')
    for (const [k, v] of Object.entries(this.env(c))) bw.push('--setenv', k, v)
    // bwrap drops capabilities of root by default; setpriv needs these to switch identity.
    bw.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP')
    bw.push('--die-with-parent', '--info-fd', '3', '--', ...this.privileges(c), ...this.argv(c))
    const script = 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" && shift 4 && exec "$@"'
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.opts.net.ns,
        'sh',
        '-c',
        script,
        'sh',
        image.root,
        join(layer, 'upper'),
        join(layer, 'work'),
        join(layer, 'merged'),
        'bwrap',
        ...bw,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    )
    run.proc = proc
    run.running = true
    run.pid = undefined
    const logFile = join(this.opts.dir, 'logs', `${c.name}.log`)
    appendFileSync(logFile, `=== start ${run.starts} at ${new Date().toISOString()}: ${this.argv(c).join(' ')}\n`)
    const write = (text: string) => {
      try {
        appendFileSync(logFile, text)
      } catch {
        /* the pod's directory is gone (teardown) */
      }
    }
    const keep = (b: Buffer) => {
      const text = b.toString()
      write(text)
      run.log.push(text)
      if (run.log.length > 400) run.log.shift()
      this.opts.onOutput?.(c.name, text)
    }
    proc.stdout!.on('data', keep)
    proc.stderr!.on('data', keep)
    let info = ''
    ;(proc.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
      info += b.toString()
      const m = /"child-pid"\s*:\s*(\d+)/.exec(info)
      if (m) run.pid = Number(m[1])
    })
    run.exited = new Promise((resolve) => {
      // 'close': the process has exited and its output is read to the end.
      proc.once('close', (code, signal) => {
        run.running = false
        run.exits.push({ code, signal, at: Date.now() })
        write(`=== exit ${code ?? signal} at ${new Date().toISOString()}\n`)
        resolve()
      })
    })
  }

  /** kubelet's restart back-off: 10 s doubling up to 5 min; a run of 10 min resets it (not needed here). */
  private backoffMs(run: ContainerRun): number {
    if (run.starts <= 1) return 0
    return Math.min(10_000 * 2 ** (run.starts - 2), 300_000)
  }

  /** Keeps a container running until the pod stops (restartPolicy Always). */
  private supervise(run: ContainerRun): void {
    const loop = async () => {
      for (;;) {
        if (this.stopping) return
        const wait = this.backoffMs(run)
        if (wait > 0) await this.sleepUnlessStopping(wait)
        if (this.stopping) return
        this.startContainer(run)
        await run.exited
      }
    }
    this.supervisors.push(loop())
  }

  private async sleepUnlessStopping(ms: number): Promise<void> {
    const until = Date.now() + ms
    while (!this.stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()))
  }

  /** One probe run: true on success. */
  async probeOnce(c: V1Container, p: V1Probe): Promise<boolean> {
    const timeoutMs = (p.timeoutSeconds ?? 1) * 1000
    const port = (v: number | string | undefined): number => {
      if (typeof v === 'number') return v
      const named = c.ports?.find((cp) => cp.name === v)?.containerPort
      if (named !== undefined) return named
      if (v !== undefined && /^\d+$/.test(v)) return Number(v)
      throw new PodError(this.opts.name, `container ${c.name}: probe port ${String(v)} is not one of its ports`)
    }
    if (p.httpGet) {
      const host = p.httpGet.host ?? this.opts.net.ip
      const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase()
      try {
        const r = await fetch(`${scheme}://${host}:${port(p.httpGet.port)}${p.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(timeoutMs) })
        await r.arrayBuffer()
        return r.status >= 200 && r.status < 400
      } catch {
        return false
      }
    }
    if (p.tcpSocket) {
      const host = p.tcpSocket.host ?? this.opts.net.ip
      const target = port(p.tcpSocket.port)
      return new Promise((resolve) => {
        const s = connect(target, host)
        const done = (ok: boolean) => {
          s.destroy()
          resolve(ok)
        }
        s.once('connect', () => done(true))
        s.once('error', () => done(false))
        s.setTimeout(timeoutMs, () => done(false))
      })
    }
    if (p.exec) {
      const run = this.runs.get(c.name)
      if (!run?.pid || !run.running) return false
      const args = ['-t', String(run.pid), '-m', '-n', '-u', '-r', '-w', '--', ...this.privileges(c), ...(p.exec.command ?? [])]
      return new Promise((resolve) => {
        const proc = spawn('/usr/bin/nsenter', args, { stdio: 'ignore', env: this.env(c) })
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
        proc.once('exit', (code) => {
          clearTimeout(timer)
          resolve(code === 0)
        })
        proc.once('error', () => resolve(false))
      })
    }
    throw new PodError(this.opts.name, `cannot run as rendered: container ${c.name}: probe kind ${Object.keys(p).join(', ')}`)
  }

  /** Waits for a startup probe the way kubelet runs it (period, failureThreshold). */
  private async waitStartup(run: ContainerRun, p: V1Probe): Promise<void> {
    await this.sleepUnlessStopping((p.initialDelaySeconds ?? 0) * 1000)
    let failures = 0
    const threshold = p.failureThreshold ?? 3
    for (;;) {
      if (this.stopping) throw new PodError(this.opts.name, 'stopped while starting')
      if (run.pid && (await this.probeOnce(run.spec, p))) return
      failures++
      if (failures >= threshold) {
        throw new PodError(this.opts.name, `startupProbe of ${run.name} failed ${failures} times; its output:\n${run.log.join('').slice(-3000)}`)
      }
      await this.sleepUnlessStopping((p.periodSeconds ?? 10) * 1000)
    }
  }

  /**
   * Starts the pod: init containers in order (sidecars left running once their startupProbe
   * passes), then the containers. Resolves when all containers have been started; rejects
   * when an init container fails `maxInitFailures` times in a row (kubelet would keep retrying).
   */
  async start(maxInitFailures = 3): Promise<void> {
    const spec = this.opts.spec
    // Every volume exists before any container starts.
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) this.mounts(c)
    for (const c of spec.initContainers ?? []) {
      if (c.restartPolicy === 'Always') {
        const run = new ContainerRun(c.name, c, 'sidecar')
        this.runs.set(c.name, run)
        this.supervise(run)
        if (c.startupProbe) await this.waitStartup(run, c.startupProbe)
        else while (!run.pid && !this.stopping) await sleep(50)
        continue
      }
      if (c.restartPolicy !== undefined)
        throw new PodError(this.opts.name, `cannot run as rendered: init container ${c.name}: restartPolicy ${c.restartPolicy}`)
      const run = new ContainerRun(c.name, c, 'init')
      this.runs.set(c.name, run)
      for (;;) {
        if (this.stopping) throw new PodError(this.opts.name, 'stopped while initializing')
        await this.sleepUnlessStopping(this.backoffMs(run))
        this.startContainer(run)
        await run.exited
        const last = run.exits.at(-1)!
        if (last.code === 0) break
        if (run.exits.length >= maxInitFailures) {
          throw new PodError(
            this.opts.name,
            `init container ${c.name} failed ${run.exits.length} times (last: ${last.code ?? last.signal}); its output:\n${run.log.join('').slice(-3000)}`,
          )
        }
      }
    }
    for (const c of spec.containers) {
      const run = new ContainerRun(c.name, c, 'main')
      this.runs.set(c.name, run)
      this.supervise(run)
    }
    for (const c of spec.containers) {
      const run = this.runs.get(c.name)!
      while (!run.pid && run.running && !this.stopping) await sleep(50)
    }
  }

  /** A container's state (undefined before it was created). */
  container(name: string): ContainerState | undefined {
    return this.runs.get(name)
  }

  /** The last output of a container (for failure messages). */
  output(name: string, chars = 4000): string {
    return (this.runs.get(name)?.log.join('') ?? '').slice(-chars)
  }

  /** Where a path inside a container is on the host (through its volumeMounts), or undefined. */
  hostPath(container: string, path: string): string | undefined {
    const c = [...(this.opts.spec.initContainers ?? []), ...this.opts.spec.containers].find((x) => x.name === container)
    const m = (c?.volumeMounts ?? [])
      .filter((vm) => path === vm.mountPath || path.startsWith(`${vm.mountPath.replace(/\/$/, '')}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0]
    const dir = m ? this.volumeDirs.get(m.name) : undefined
    return m && dir ? join(dir, path.slice(m.mountPath.length)) : undefined
  }

  /** Sends a signal to a container's first process (e.g. SIGKILL: an OOM kill or a crash). */
  signal(name: string, signal: NodeJS.Signals): void {
    const run = this.runs.get(name)
    if (!run?.pid || !run.running) throw new PodError(this.opts.name, `container ${name} is not running`)
    process.kill(run.pid, signal)
  }

  /** Runs a command inside a container (kubectl exec), returning its exit code and output. */
  async exec(name: string, command: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const run = this.runs.get(name)
    if (!run?.pid || !run.running) throw new PodError(this.opts.name, `container ${name} is not running`)
    const args = ['-t', String(run.pid), '-m', '-n', '-u', '-r', '-w', '--', ...this.privileges(run.spec), ...command]
    return new Promise((resolve, reject) => {
      const proc = spawn('/usr/bin/nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env(run.spec) })
      let stdout = ''
      let stderr = ''
      proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
      proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
      proc.once('error', reject)
      proc.once('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  }

  /** Pod deletion: SIGTERM to the containers, then to the sidecars in reverse order; SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true
    const grace = Math.min(this.opts.spec.terminationGracePeriodSeconds ?? 30, this.opts.maxGraceSeconds ?? 30) * 1000
    const term = async (runs: ContainerRun[]) => {
      await Promise.all(
        runs.map(async (run) => {
          if (!run.running || !run.proc) return
          try {
            if (run.pid) process.kill(run.pid, 'SIGTERM')
            else run.proc.kill('SIGKILL')
            // (a process still setting up has no pid yet: bwrap's death takes it along)
          } catch {
            /* gone */
          }
          const killer = setTimeout(() => {
            try {
              if (run.pid) process.kill(run.pid, 'SIGKILL')
            } catch {
              /* gone */
            }
            run.proc?.kill('SIGKILL')
          }, grace)
          await run.exited
          clearTimeout(killer)
        }),
      )
    }
    const all = [...this.runs.values()]
    await term(all.filter((r) => r.kind !== 'sidecar'))
    for (const r of all.filter((r) => r.kind === 'sidecar').reverse()) await term([r])
    await Promise.all(this.supervisors)
  }

  /**
   * Stops the pod without grace (test teardown). The container's process is killed itself:
   * bwrap's --die-with-parent does not outlive setpriv's change of identity.
   */
  async kill(): Promise<void> {
    this.stopping = true
    for (const run of this.runs.values()) {
      if (!run.running) continue
      try {
        if (run.pid) process.kill(run.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
      run.proc?.kill('SIGKILL')
    }
    await Promise.all([...this.runs.values()].map((r) => r.exited))
    await Promise.all(this.supervisors)
  }
}

/** The ConfigMaps of rendered children, by name (what their volumes show). */
export function configMapsOf(
  children: readonly { kind?: string; metadata?: { name?: string }; data?: Record<string, string> }[],
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  for (const c of children) if (c.kind === 'ConfigMap' && c.metadata?.name) out[c.metadata.name] = c.data ?? {}
  return out
}
