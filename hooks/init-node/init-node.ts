/**
 * `cli init-node`: prepares monerod's config file (/run/monerod/monerod.conf, read through
 * --config-file) from the included config fragments.
 *
 * Peer names (`--wait-peers`): monerod never resolves a peer name. Every
 * `add-exclusive-node=<name>:<port>` line of the includes is written as
 * `add-exclusive-node=<IP>:<port>` (the name stays beside it as a comment). The first write
 * waits until every listed name resolves; included files are re-read on every attempt, since
 * kubelet refreshes a mounted ConfigMap.
 *
 * `--watch` (MoneroNetwork pods, where init-node is a native sidecar: an init container with
 * restartPolicy Always) keeps running after the first write: every `--refresh-seconds` it
 * re-reads the includes and re-resolves the names, and replaces the file (temporary file and
 * rename in the same directory) only when its content changes. A name that stops resolving
 * keeps its last known address while it is listed; a name the list drops is dropped. So a
 * monerod that restarts (crash, OOM kill; init containers do not run again for a container
 * restart) reads the current members, never a gone name. SIGTERM or SIGINT ends it with 0.
 *
 * With Tor / I2P it also lays out THIS replica's hidden-service keys, once, before the first
 * write: the replica is the ordinal at the end of the pod name (`--replica-from-hostname`:
 * env POD_NAME, else the host name), its entries `<replica>.<file>` are read from the mounted
 * keys Secret (waiting while kubelet has not refreshed a Secret updated by a scale-up),
 * checked, and copied into the daemons' emptyDirs: tor refuses a HiddenServiceDir or
 * DataDirectory that is not 0700 and owned by its user, which a Secret volume cannot be. The
 * replica's own anonymous-inbound lines (its address is known only here) are appended to the
 * monerod config file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { parseI2pKeysFile } from '../anonymity/i2p-keys.js'
import { parseTorSecretKeyFile, TOR_HOSTNAME_FILE, TOR_PUBLIC_KEY_FILE, TOR_SECRET_KEY_FILE } from '../anonymity/tor-keys.js'
import { endpointOf, exclusivePeerHosts, isLiteralHost, parsePeerLine, PeerAddresses, systemResolver, type Resolver } from './wait-peers.js'

/** `PORT,MAX` of an anonymous-inbound line. */
export interface InboundSpec {
  port: number
  max: number
}

export interface InitNodeOptions {
  out: string
  includes: string[]
  /** Resolve peer names, write their addresses, and wait until all resolve before the first write. */
  waitPeers: boolean
  /** Keep running after the first write and keep the file current (a native sidecar). */
  watch: boolean
  /** Seconds between refreshes with --watch. */
  refreshSeconds: number
  /** Seconds between attempts while waiting for keys or peer names. */
  intervalSeconds: number
  /** Give up waiting after this long (0: never). */
  maxWaitSeconds: number
  /** Take the replica ordinal from POD_NAME (or the host name). */
  replicaFromHostname: boolean
  /** Explicit replica ordinal (tests, debugging). */
  replica?: number
  /** Directory of `<replica>.hs_ed25519_secret_key` entries (the mounted Secret). */
  torKeys?: string
  /** tor's volume: `data/` and `hidden_service/` are created in it. */
  torOut?: string
  torInbound?: InboundSpec
  /** Directory of `<replica>.<file>` i2pd keys files (the mounted Secret). */
  i2pKeys?: string
  /** i2pd's datadir: the keys files are copied into it. */
  i2pOut?: string
  /** Keys files to copy (the first one is the P2P destination when i2pInbound is set). */
  i2pFiles: string[]
  i2pInbound?: InboundSpec
}

export const DEFAULT_REFRESH_SECONDS = 10
export const DEFAULT_INTERVAL_SECONDS = 2

function inbound(value: string | undefined, flag: string): InboundSpec | undefined {
  if (value === undefined) return undefined
  const m = /^([0-9]{1,5}),([0-9]{1,6})$/.exec(value)
  const port = Number(m?.[1])
  const max = Number(m?.[2])
  if (!m || port < 1 || port > 65535 || max < 1) throw new Error(`init-node: ${flag} wants PORT,MAX (e.g. 18084,64), got ${JSON.stringify(value)}`)
  return { port, max }
}

function seconds(value: string | undefined, flag: string, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
    throw new Error(`init-node: ${flag} wants a number of seconds${allowZero ? '' : ' above 0'}, got ${JSON.stringify(value)}`)
  }
  return n
}

const OPTIONS = {
  out: { type: 'string' },
  include: { type: 'string', multiple: true },
  'wait-peers': { type: 'boolean' },
  watch: { type: 'boolean' },
  'refresh-seconds': { type: 'string' },
  'interval-seconds': { type: 'string' },
  'max-wait-seconds': { type: 'string' },
  'replica-from-hostname': { type: 'boolean' },
  replica: { type: 'string' },
  'tor-keys': { type: 'string' },
  'tor-out': { type: 'string' },
  'tor-inbound': { type: 'string' },
  'i2p-keys': { type: 'string' },
  'i2p-out': { type: 'string' },
  'i2p-file': { type: 'string', multiple: true },
  'i2p-inbound': { type: 'string' },
} as const

export function parseInitNodeArgs(argv: string[]): InitNodeOptions {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values']
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new Error(`init-node: ${(err as Error).message}`)
  }
  const opts: InitNodeOptions = {
    out: values.out ?? '',
    includes: values.include ?? [],
    waitPeers: values['wait-peers'] === true,
    watch: values.watch === true,
    refreshSeconds: seconds(values['refresh-seconds'], '--refresh-seconds', DEFAULT_REFRESH_SECONDS, false),
    intervalSeconds: seconds(values['interval-seconds'], '--interval-seconds', DEFAULT_INTERVAL_SECONDS, false),
    maxWaitSeconds: seconds(values['max-wait-seconds'], '--max-wait-seconds', 0, true),
    replicaFromHostname: values['replica-from-hostname'] === true,
    ...(values.replica !== undefined ? { replica: ordinal(values.replica) } : {}),
    ...(values['tor-keys'] !== undefined ? { torKeys: values['tor-keys'] } : {}),
    ...(values['tor-out'] !== undefined ? { torOut: values['tor-out'] } : {}),
    ...(values['i2p-keys'] !== undefined ? { i2pKeys: values['i2p-keys'] } : {}),
    ...(values['i2p-out'] !== undefined ? { i2pOut: values['i2p-out'] } : {}),
    i2pFiles: (values['i2p-file'] ?? []).map(safeFile),
  }
  const torInbound = inbound(values['tor-inbound'], '--tor-inbound')
  const i2pInbound = inbound(values['i2p-inbound'], '--i2p-inbound')
  if (torInbound) opts.torInbound = torInbound
  if (i2pInbound) opts.i2pInbound = i2pInbound
  if (!opts.out) throw new Error('init-node: --out FILE is required')
  if (values['refresh-seconds'] !== undefined && !opts.watch) throw new Error('init-node: --refresh-seconds needs --watch')
  if ((opts.torKeys === undefined) !== (opts.torOut === undefined)) throw new Error('init-node: --tor-keys and --tor-out go together')
  if ((opts.i2pKeys === undefined) !== (opts.i2pOut === undefined)) throw new Error('init-node: --i2p-keys and --i2p-out go together')
  if (opts.i2pKeys !== undefined && opts.i2pFiles.length === 0) throw new Error('init-node: --i2p-keys needs at least one --i2p-file')
  if (opts.torInbound && !opts.torKeys) throw new Error('init-node: --tor-inbound needs --tor-keys')
  if (opts.i2pInbound && !opts.i2pKeys) throw new Error('init-node: --i2p-inbound needs --i2p-keys')
  if ((opts.torKeys || opts.i2pKeys) && opts.replica === undefined && !opts.replicaFromHostname) {
    throw new Error('init-node: hidden-service keys need --replica-from-hostname or --replica N')
  }
  return opts
}

function ordinal(value: string): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(value)) throw new Error(`init-node: not a replica ordinal: ${JSON.stringify(value)}`)
  return Number(value)
}

function safeFile(value: string): string {
  if (!/^[A-Za-z0-9_][-._A-Za-z0-9]*$/.test(value)) throw new Error(`init-node: --i2p-file wants a plain file name, got ${JSON.stringify(value)}`)
  return value
}

/** The StatefulSet ordinal at the end of a pod name (`<workload>-<ordinal>`). */
export function replicaOfPodName(name: string): number {
  const m = /-(0|[1-9][0-9]{0,5})$/.exec(name.trim())
  if (!m) throw new Error(`init-node: pod name ${JSON.stringify(name)} does not end in -<ordinal>; is this a StatefulSet pod?`)
  return Number(m[1])
}

/** Files of this replica that are not (yet) in the mounted Secret. */
export function missingKeyFiles(opts: InitNodeOptions, replica: number): string[] {
  const wanted = [
    ...(opts.torKeys ? [join(opts.torKeys, `${replica}.${TOR_SECRET_KEY_FILE}`)] : []),
    ...(opts.i2pKeys ? opts.i2pFiles.map((f) => join(opts.i2pKeys as string, `${replica}.${f}`)) : []),
  ]
  return wanted.filter((f) => !existsSync(f))
}

/** mkdir -p, then exactly 0700 (also when it existed, e.g. a restarted pod's emptyDir). */
function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  chmodSync(path, 0o700)
}

function privateFile(path: string, data: Buffer | string): void {
  // A restarted sidecar lays the same keys out again while tor may be reading them: leave
  // an identical file alone.
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  if (!(existsSync(path) && readFileSync(path).equals(bytes))) writeFileSync(path, bytes, { mode: 0o600 })
  chmodSync(path, 0o600)
}

/**
 * Copy this replica's keys into place and return its anonymous-inbound config lines (and
 * public addresses, for the log). Key files are checked before they are used: a bad entry
 * fails here, with the entry's name, instead of as a daemon that silently makes new keys.
 */
export function layOutHiddenServices(opts: InitNodeOptions, replica: number): { lines: string[]; onion?: string; i2p?: string[] } {
  const lines: string[] = []
  const out: { lines: string[]; onion?: string; i2p?: string[] } = { lines }
  if (opts.torKeys && opts.torOut) {
    const entry = `${replica}.${TOR_SECRET_KEY_FILE}`
    const secretKeyFile = readFileSync(join(opts.torKeys, entry))
    let parsed: ReturnType<typeof parseTorSecretKeyFile>
    try {
      parsed = parseTorSecretKeyFile(secretKeyFile)
    } catch (err) {
      throw new Error(`init-node: keys entry ${entry}: ${(err as Error).message}`)
    }
    // The volume's root belongs to root (an emptyDir): only the directories inside are ours.
    mkdirSync(opts.torOut, { recursive: true })
    const data = join(opts.torOut, 'data')
    const service = join(opts.torOut, 'hidden_service')
    privateDir(data)
    privateDir(service)
    privateFile(join(service, TOR_SECRET_KEY_FILE), secretKeyFile)
    const header = Buffer.alloc(32)
    header.write('== ed25519v1-public: type0 ==', 'ascii')
    privateFile(join(service, TOR_PUBLIC_KEY_FILE), Buffer.concat([header, parsed.publicKey]))
    privateFile(join(service, TOR_HOSTNAME_FILE), `${parsed.onion}\n`)
    out.onion = parsed.onion
    if (opts.torInbound) {
      const { port, max } = opts.torInbound
      lines.push(`anonymous-inbound=${parsed.onion}:${port},127.0.0.1:${port},${max}`)
    }
  }
  if (opts.i2pKeys && opts.i2pOut) {
    mkdirSync(opts.i2pOut, { recursive: true })
    out.i2p = []
    opts.i2pFiles.forEach((file, i) => {
      const entry = `${replica}.${file}`
      const keys = readFileSync(join(opts.i2pKeys as string, entry))
      let b32: string
      try {
        b32 = parseI2pKeysFile(keys).b32
      } catch (err) {
        throw new Error(`init-node: keys entry ${entry}: ${(err as Error).message}`)
      }
      privateFile(join(opts.i2pOut as string, file), keys)
      out.i2p?.push(b32)
      if (i === 0 && opts.i2pInbound) {
        const { port, max } = opts.i2pInbound
        lines.push(`anonymous-inbound=${b32},127.0.0.1:${port},${max}`)
      }
    })
  }
  return out
}

/** The combined config text of the includes (each ends with a newline). */
export function combineConfigs(texts: readonly string[]): string {
  return texts.map((t) => (t.endsWith('\n') || t === '' ? t : `${t}\n`)).join('')
}

/** The names among the peer hosts of a config text (what init-node resolves). */
export function peerNames(configText: string): string[] {
  return exclusivePeerHosts(configText).filter((h) => !isLiteralHost(h))
}

/** monerod's config file, and what it says about peers. */
export interface MonerodConfig {
  readonly text: string
  /** The `add-exclusive-node` endpoints written (addresses, not names). */
  readonly endpoints: string[]
  /** Listed names without an address (their lines are left out). */
  readonly unresolved: string[]
}

/**
 * monerod's config file from the combined includes: each `add-exclusive-node` line naming a
 * host is replaced by the same line with the host's address, after a comment with the
 * original line; a name without an address is left out (as a comment); IP, onion and I2P
 * hosts and all other lines are kept as they are. An endpoint is written once.
 */
export function renderMonerodConfig(combined: string, addressOf: (host: string) => string | undefined): MonerodConfig {
  const out: string[] = []
  const endpoints: string[] = []
  const seen = new Set<string>()
  const unresolved = new Set<string>()
  const lines = combined.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  for (const line of lines) {
    const peer = parsePeerLine(line)
    if (!peer) {
      out.push(line)
      continue
    }
    let endpoint: string
    if (isLiteralHost(peer.host)) {
      endpoint = peer.host.includes(':') ? endpointOf(peer.host, peer.port) : `${peer.host}${peer.port}`
    } else {
      const address = addressOf(peer.host)
      if (address === undefined) {
        unresolved.add(peer.host)
        out.push(`# ${line.trim()}: no address yet`)
        continue
      }
      out.push(`# ${line.trim()}`)
      endpoint = endpointOf(address, peer.port)
    }
    if (seen.has(endpoint)) continue
    seen.add(endpoint)
    endpoints.push(endpoint)
    out.push(`add-exclusive-node=${endpoint}`)
  }
  return { text: out.length > 0 ? `${out.join('\n')}\n` : '', endpoints, unresolved: [...unresolved] }
}

/** Replace `path` with `text` at once: a temporary file in the same directory, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  const temporary = join(dir, `.${basename(path)}.${process.pid}.tmp`)
  writeFileSync(temporary, text, { mode: 0o644 })
  chmodSync(temporary, 0o644)
  renameSync(temporary, path)
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** What tests and the CLI can replace. */
export interface InitNodeDeps {
  /** Name -> address (default: the system resolver, as monerod would have used). */
  readonly resolve?: Resolver
  /**
   * Stops the run (it then returns 0 once the file was written, or with --watch). Without
   * one, SIGTERM and SIGINT stop it.
   */
  readonly signal?: AbortSignal
}

export async function runInitNode(
  argv: string[],
  log: (line: object) => void = (l) => console.log(JSON.stringify(l)),
  env: NodeJS.ProcessEnv = process.env,
  deps: InitNodeDeps = {},
): Promise<number> {
  const opts = parseInitNodeArgs(argv)
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  if (deps.signal) {
    if (deps.signal.aborted) stop.abort()
    else deps.signal.addEventListener('abort', onSignal, { once: true })
  } else {
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  }
  try {
    return await initNode(opts, log, env, deps.resolve ?? systemResolver, stop.signal)
  } finally {
    deps.signal?.removeEventListener('abort', onSignal)
    process.removeListener('SIGTERM', onSignal)
    process.removeListener('SIGINT', onSignal)
  }
}

async function initNode(opts: InitNodeOptions, log: (line: object) => void, env: NodeJS.ProcessEnv, resolve: Resolver, signal: AbortSignal): Promise<number> {
  const started = Date.now()
  const timedOut = () => opts.maxWaitSeconds > 0 && (Date.now() - started) / 1000 >= opts.maxWaitSeconds
  /** Sleeps; false when stopped meanwhile. */
  const pause = async (s: number): Promise<boolean> => {
    await sleep(s * 1000, undefined, { signal }).catch(() => undefined)
    return !signal.aborted
  }
  // Stopped before the file was written: a one-shot init container must not look done.
  const stoppedEarly = (): number => {
    log({ msg: 'stopped before the monerod config was written' })
    return opts.watch ? 0 : 143
  }
  let lastReport = 0
  let fragment: string[] = []
  if (opts.torKeys || opts.i2pKeys) {
    const replica = opts.replica ?? replicaOfPodName(env.POD_NAME || hostname())
    for (;;) {
      const missing = missingKeyFiles(opts, replica)
      if (missing.length === 0) break
      if (timedOut()) {
        log({ msg: 'hidden-service keys of this replica are not in the keys Secret', replica, missing })
        return 1
      }
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now()
        log({ msg: "waiting for this replica's hidden-service keys (Secret volume not refreshed yet?)", replica, missing })
      }
      if (!(await pause(opts.intervalSeconds))) return stoppedEarly()
    }
    const laid = layOutHiddenServices(opts, replica)
    fragment = laid.lines
    // public addresses only
    log({ msg: 'hidden-service keys in place', replica, onion: laid.onion, i2p: laid.i2p })
  }
  const tail = fragment.length > 0 ? [`${fragment.join('\n')}\n`] : []
  const addresses = new PeerAddresses(resolve)
  const render = async (): Promise<{ config: MonerodConfig; listed: number }> => {
    const combined = combineConfigs([...opts.includes.map((f) => readFileSync(f, 'utf8')), ...tail])
    if (!opts.waitPeers) return { config: { text: combined, endpoints: [], unresolved: [] }, listed: 0 }
    const names = peerNames(combined)
    await addresses.refresh(names)
    return { config: renderMonerodConfig(combined, (h) => addresses.get(h)), listed: names.length }
  }

  // First write: every listed name has an address (a new pod starts with every member).
  let written = readOrUndefined(opts.out)
  let endpoints: string[] = []
  lastReport = 0
  for (;;) {
    const { config, listed } = await render()
    if (config.unresolved.length === 0) {
      if (config.text !== written) writeFileAtomic(opts.out, config.text)
      written = config.text
      endpoints = config.endpoints
      log({ msg: 'monerod config written', out: opts.out, peers: config.endpoints.length, names: listed })
      break
    }
    if (timedOut()) {
      log({ msg: 'peer names still do not resolve', count: config.unresolved.length, missing: config.unresolved.slice(0, 20) })
      return 1
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now()
      log({ msg: 'waiting for peer names to resolve', count: config.unresolved.length, missing: config.unresolved.slice(0, 5) })
    }
    if (!(await pause(opts.intervalSeconds))) return stoppedEarly()
  }
  if (!opts.watch) return 0

  // Then keep it current until stopped. Nothing here ends the sidecar: a failed refresh
  // keeps the last file and is tried again.
  // A stop does not wait for lookups in flight (a DNS timeout is seconds).
  const stopped = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }))
  while (await pause(opts.refreshSeconds)) {
    try {
      const refreshing = render()
      refreshing.catch(() => undefined) // when a stop wins the race, a later failure is nobody's business
      const rendered = await Promise.race([refreshing, stopped])
      if (rendered === undefined) break
      const { config, listed } = rendered
      if (config.text === written) continue
      writeFileAtomic(opts.out, config.text)
      written = config.text
      const before = new Set(endpoints)
      const after = new Set(config.endpoints)
      log({
        msg: 'monerod config rewritten',
        peers: config.endpoints.length,
        names: listed,
        added: config.endpoints.filter((e) => !before.has(e)).length,
        removed: endpoints.filter((e) => !after.has(e)).length,
        unresolved: config.unresolved.length,
      })
      endpoints = config.endpoints
    } catch (err) {
      log({ msg: 'refresh failed; the monerod config is kept as it was', error: (err as Error).message })
    }
  }
  log({ msg: 'stopping' })
  return 0
}
