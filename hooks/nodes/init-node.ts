/**
 * `cli init-node`: the init container of monerod pods that need files prepared at start.
 *
 * It waits until every `add-exclusive-node` host in the included config files resolves
 * (monerod resolves them once at start and aborts on the first failure), then writes one
 * monerod config file from the includes. Included files are re-read on every attempt, so a
 * peer list that kubelet refreshes after a scale-down is picked up.
 *
 * With Tor / I2P it also lays out THIS replica's hidden-service keys: the replica is the
 * ordinal at the end of the pod name (`--replica-from-hostname`: env POD_NAME, else the host
 * name), its entries `<replica>.<file>` are read from the mounted keys Secret (waiting while
 * kubelet has not refreshed a Secret updated by a scale-up), checked, and copied into the
 * daemons' emptyDirs: tor refuses a HiddenServiceDir or DataDirectory that is not 0700 and
 * owned by its user, which a Secret volume cannot be. The replica's own anonymous-inbound
 * lines (its address is known only here) are appended to the monerod config file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseI2pKeysFile } from '../anonymity/i2p-keys.js'
import { parseTorSecretKeyFile, TOR_HOSTNAME_FILE, TOR_PUBLIC_KEY_FILE, TOR_SECRET_KEY_FILE } from '../anonymity/tor-keys.js'
import { exclusivePeerHosts, unresolved } from './wait-peers.js'

/** `PORT,MAX` of an anonymous-inbound line. */
export interface InboundSpec {
  port: number
  max: number
}

export interface InitNodeOptions {
  out: string
  includes: string[]
  waitPeers: boolean
  intervalSeconds: number
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

function inbound(value: string, flag: string): InboundSpec {
  const m = /^([0-9]{1,5}),([0-9]{1,6})$/.exec(value)
  const port = Number(m?.[1])
  const max = Number(m?.[2])
  if (!m || port < 1 || port > 65535 || max < 1) throw new Error(`init-node: ${flag} wants PORT,MAX (e.g. 18084,64), got ${JSON.stringify(value)}`)
  return { port, max }
}

export function parseInitNodeArgs(argv: string[]): InitNodeOptions {
  const opts: InitNodeOptions = {
    out: '',
    includes: [],
    waitPeers: false,
    intervalSeconds: 2,
    maxWaitSeconds: 0,
    replicaFromHostname: false,
    i2pFiles: [],
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`init-node: ${a} needs a value`)
      return v
    }
    if (a === '--out') opts.out = next()
    else if (a === '--include') opts.includes.push(next())
    else if (a === '--wait-peers') opts.waitPeers = true
    else if (a === '--interval-seconds') opts.intervalSeconds = Number(next())
    else if (a === '--max-wait-seconds') opts.maxWaitSeconds = Number(next())
    else if (a === '--replica-from-hostname') opts.replicaFromHostname = true
    else if (a === '--replica') opts.replica = ordinal(next())
    else if (a === '--tor-keys') opts.torKeys = next()
    else if (a === '--tor-out') opts.torOut = next()
    else if (a === '--tor-inbound') opts.torInbound = inbound(next(), a)
    else if (a === '--i2p-keys') opts.i2pKeys = next()
    else if (a === '--i2p-out') opts.i2pOut = next()
    else if (a === '--i2p-file') opts.i2pFiles.push(safeFile(next()))
    else if (a === '--i2p-inbound') opts.i2pInbound = inbound(next(), a)
    else throw new Error(`init-node: unknown option ${String(a)}`)
  }
  if (!opts.out) throw new Error('init-node: --out FILE is required')
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
  writeFileSync(path, data, { mode: 0o600 })
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
    let parsed
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

export async function runInitNode(
  argv: string[],
  log: (line: object) => void = (l) => console.log(JSON.stringify(l)),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const opts = parseInitNodeArgs(argv)
  const started = Date.now()
  const timedOut = () => opts.maxWaitSeconds > 0 && (Date.now() - started) / 1000 >= opts.maxWaitSeconds
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
        log({ msg: 'waiting for this replica\'s hidden-service keys (Secret volume not refreshed yet?)', replica, missing })
      }
      await sleep(opts.intervalSeconds * 1000)
    }
    const laid = layOutHiddenServices(opts, replica)
    fragment = laid.lines
    // public addresses only
    log({ msg: 'hidden-service keys in place', replica, onion: laid.onion, i2p: laid.i2p })
  }
  lastReport = 0
  for (;;) {
    const text = combineConfigs([...opts.includes.map((f) => readFileSync(f, 'utf8')), ...(fragment.length > 0 ? [`${fragment.join('\n')}\n`] : [])])
    const missing = opts.waitPeers ? await unresolved(exclusivePeerHosts(text)) : []
    if (missing.length === 0) {
      mkdirSync(dirname(opts.out), { recursive: true })
      writeFileSync(opts.out, text, { mode: 0o644 })
      log({ msg: 'monerod config written', out: opts.out, peers: exclusivePeerHosts(text).length })
      return 0
    }
    if (timedOut()) {
      log({ msg: 'peer names still do not resolve', count: missing.length, missing: missing.slice(0, 20) })
      return 1
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now()
      log({ msg: 'waiting for peer names to resolve', count: missing.length, missing: missing.slice(0, 5) })
    }
    await sleep(opts.intervalSeconds * 1000)
  }
}
