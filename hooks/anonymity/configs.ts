/**
 * Pure renderers for the tor and i2pd sidecar configuration files. Every listener is on
 * 127.0.0.1: the sidecars share the pod's network namespace with monerod, and nothing but
 * the anonymity networks themselves should reach them.
 */

/** Conventional monerod anonymous-inbound port for Tor (MONERO.md). */
export const TOR_P2P_PORT = 18084
/** Conventional monerod anonymous-inbound port for I2P (MONERO.md). */
export const I2P_P2P_PORT = 18085
/** Conventional restricted RPC port (mainnet). */
export const RESTRICTED_RPC_PORT = 18089
/** tor SOCKS port monerod's `--tx-proxy tor,127.0.0.1:9050` uses. */
export const TOR_SOCKS_PORT = 9050
/** i2pd SOCKS port monerod's `--tx-proxy i2p,127.0.0.1:4447` uses. */
export const I2PD_SOCKS_PORT = 4447
/** i2pd web console port (loopback only; read by probes and tests). */
export const I2PD_HTTP_CONSOLE_PORT = 7070

/** Default tor DataDirectory. */
export const TOR_DATA_DIRECTORY = '/var/lib/tor'
/** Default tor HiddenServiceDir (key files are copied here from the Secret). */
export const TOR_HIDDEN_SERVICE_DIR = '/var/lib/tor/hidden_service'
/** Default i2pd datadir (keys files are resolved relative to it). */
export const I2PD_DATA_DIR = '/var/lib/i2pd'

/** Section names and keys files (relative to the i2pd datadir) of the server tunnels. */
export const I2PD_P2P_TUNNEL = 'monerod'
export const I2PD_P2P_KEYS_FILE = 'monerod.dat'
export const I2PD_RPC_TUNNEL = 'monerod-rpc'
export const I2PD_RPC_KEYS_FILE = 'monerod-rpc.dat'

function port(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new RangeError(`${what} must be an integer port in 1..65535, got ${String(value)}`)
  }
  return value
}

function positive(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${String(value)}`)
  return value
}

// A value that could smuggle a second directive into the file is a bug upstream: refuse it.
function lineSafe(value: string, what: string): string {
  if (value.length === 0 || /[\r\n\0#]/.test(value) || value.trim() !== value) {
    throw new RangeError(`${what} must be non-empty, without newlines, "#" or surrounding spaces: ${JSON.stringify(value)}`)
  }
  return value
}

function absolutePath(value: string, what: string): string {
  if (!lineSafe(value, what).startsWith('/')) throw new RangeError(`${what} must be an absolute path, got ${JSON.stringify(value)}`)
  return value
}

/** Options of {@link renderTorrc}. Ports default to the MONERO.md conventions. */
export interface TorrcOptions {
  /** Tor's DataDirectory (default {@link TOR_DATA_DIRECTORY}); must be writable, mode 0700. */
  dataDirectory?: string
  /** HiddenServiceDir holding the key files (default {@link TOR_HIDDEN_SERVICE_DIR}). */
  hiddenServiceDir?: string
  /** Loopback SOCKS port for monerod's `--tx-proxy` (default 9050). */
  socksPort?: number
  /** Publish monerod's anonymous-inbound P2P port on the onion service (default true). */
  publishP2p?: boolean
  /** Onion virtual port = local target port for P2P (default 18084). */
  p2pPort?: number
  /** Publish the restricted RPC port on the onion service (default false). */
  publishRestrictedRpc?: boolean
  /** Onion virtual port = local target port for the restricted RPC (default 18089). */
  restrictedRpcPort?: number
  /** `HiddenServiceMaxStreams`: most concurrent streams per rendezvous circuit (unset: unlimited). */
  maxStreamsPerCircuit?: number
  /** `HiddenServiceMaxStreamsCloseCircuit 1`: tear down a circuit that exceeds the limit. */
  closeCircuitOnMaxStreams?: boolean
  /** `DisableNetwork 1`: tor loads keys and writes `hostname` but never connects (tests). */
  disableNetwork?: boolean
}

/**
 * Render a torrc for the tor sidecar: loopback SOCKS, a v3 onion service for the published
 * monerod ports, logs to stdout, no ControlPort, foreground. Without any published port the
 * onion service is left out (tor then only serves monerod's outbound `--tx-proxy`).
 */
export function renderTorrc(opts: TorrcOptions = {}): string {
  const dataDirectory = absolutePath(opts.dataDirectory ?? TOR_DATA_DIRECTORY, 'dataDirectory')
  const hiddenServiceDir = absolutePath(opts.hiddenServiceDir ?? TOR_HIDDEN_SERVICE_DIR, 'hiddenServiceDir')
  const socksPort = port(opts.socksPort ?? TOR_SOCKS_PORT, 'socksPort')
  const lines = [
    '# Rendered by monero-operator. Do not edit: the operator rewrites it.',
    'RunAsDaemon 0',
    `DataDirectory ${dataDirectory}`,
    'Log notice stdout',
    `SocksPort 127.0.0.1:${socksPort}`,
  ]
  if (opts.disableNetwork === true) lines.push('DisableNetwork 1')

  const servicePorts: number[] = []
  if (opts.publishP2p ?? true) servicePorts.push(port(opts.p2pPort ?? TOR_P2P_PORT, 'p2pPort'))
  if (opts.publishRestrictedRpc ?? false) {
    servicePorts.push(port(opts.restrictedRpcPort ?? RESTRICTED_RPC_PORT, 'restrictedRpcPort'))
  }
  if (new Set(servicePorts).size !== servicePorts.length) {
    throw new RangeError(`p2pPort and restrictedRpcPort must differ, both are ${String(servicePorts[0])}`)
  }
  if (servicePorts.length > 0) {
    lines.push('', `HiddenServiceDir ${hiddenServiceDir}`, 'HiddenServiceVersion 3')
    for (const p of servicePorts) lines.push(`HiddenServicePort ${p} 127.0.0.1:${p}`)
    if (opts.maxStreamsPerCircuit !== undefined) {
      lines.push(`HiddenServiceMaxStreams ${positive(opts.maxStreamsPerCircuit, 'maxStreamsPerCircuit')}`)
      if (opts.closeCircuitOnMaxStreams === true) lines.push('HiddenServiceMaxStreamsCloseCircuit 1')
    }
  }
  return `${lines.join('\n')}\n`
}

/** i2pd log levels. */
export type I2pdLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none'

/** Options of {@link renderI2pdConf}. */
export interface I2pdConfOptions {
  /**
   * i2pd data directory (default {@link I2PD_DATA_DIR}). i2pd resolves it from the command
   * line before reading this file, so the container must also pass `--datadir`.
   */
  dataDir?: string
  /** Path of tunnels.conf (default `<dataDir>/tunnels.conf`). */
  tunnelsConf?: string
  /** Loopback SOCKS proxy port for monerod's `--tx-proxy` (default 4447). */
  socksPort?: number
  /** Loopback web console port (default 7070). */
  httpConsolePort?: number
  /** Log level (default `warn`). */
  logLevel?: I2pdLogLevel
  /** `limits.transittunnels`: most transit tunnels this router carries (default 500). */
  transitTunnels?: number
  /** `bandwidth`: transit bandwidth class or KB/s (e.g. `L`, `O`, `P`, `X` or `256`); unset: i2pd default. */
  bandwidth?: string
  /** `share`: percent of bandwidth given to transit traffic, 0..100 (unset: i2pd default). */
  sharePercent?: number
  /** Publish the router's NTCP2/SSU2 addresses (default false: pods are behind NAT). */
  publishRouterAddresses?: boolean
  /** Fixed router transport port (default: i2pd picks one). */
  routerPort?: number
}

/**
 * Render i2pd.conf for the i2pd sidecar: log to stdout, SOCKS proxy and web console on
 * 127.0.0.1, HTTP proxy / SAM / BOB / I2CP / I2PControl / UPnP off, bounded transit tunnels.
 */
export function renderI2pdConf(opts: I2pdConfOptions = {}): string {
  const dataDir = absolutePath(opts.dataDir ?? I2PD_DATA_DIR, 'dataDir')
  const tunnelsConf = absolutePath(opts.tunnelsConf ?? `${dataDir.replace(/\/+$/, '')}/tunnels.conf`, 'tunnelsConf')
  const socksPort = port(opts.socksPort ?? I2PD_SOCKS_PORT, 'socksPort')
  const httpPort = port(opts.httpConsolePort ?? I2PD_HTTP_CONSOLE_PORT, 'httpConsolePort')
  if (socksPort === httpPort) throw new RangeError(`socksPort and httpConsolePort must differ, both are ${socksPort}`)
  const published = opts.publishRouterAddresses ?? false
  const general = [
    '# Rendered by monero-operator. Do not edit: the operator rewrites it.',
    `datadir = ${dataDir}`,
    `tunconf = ${tunnelsConf}`,
    'log = stdout',
    `loglevel = ${opts.logLevel ?? 'warn'}`,
    'daemon = false',
    'ipv4 = true',
    'ipv6 = false',
    'nat = true',
  ]
  if (opts.routerPort !== undefined) general.push(`port = ${port(opts.routerPort, 'routerPort')}`)
  if (opts.bandwidth !== undefined) {
    if (!/^([LOPX]|[1-9][0-9]*)$/.test(opts.bandwidth)) {
      throw new RangeError(`bandwidth must be L, O, P, X or a positive integer (KB/s), got ${JSON.stringify(opts.bandwidth)}`)
    }
    general.push(`bandwidth = ${opts.bandwidth}`)
  }
  if (opts.sharePercent !== undefined) {
    if (!Number.isInteger(opts.sharePercent) || opts.sharePercent < 0 || opts.sharePercent > 100) {
      throw new RangeError(`sharePercent must be an integer in 0..100, got ${String(opts.sharePercent)}`)
    }
    general.push(`share = ${opts.sharePercent}`)
  }
  const section = (name: string, entries: readonly string[]): string => [`[${name}]`, ...entries].join('\n')
  const sections = [
    general.join('\n'),
    section('limits', [`transittunnels = ${positive(opts.transitTunnels ?? 500, 'transitTunnels')}`]),
    section('ntcp2', ['enabled = true', `published = ${published}`]),
    section('ssu2', ['enabled = true', `published = ${published}`]),
    section('http', ['enabled = true', 'address = 127.0.0.1', `port = ${httpPort}`]),
    section('httpproxy', ['enabled = false']),
    section('socksproxy', ['enabled = true', 'address = 127.0.0.1', `port = ${socksPort}`]),
    section('sam', ['enabled = false']),
    section('bob', ['enabled = false']),
    section('i2cp', ['enabled = false']),
    section('i2pcontrol', ['enabled = false']),
    section('upnp', ['enabled = false']),
    section('reseed', ['verify = true']),
  ]
  return `${sections.join('\n\n')}\n`
}

/** Options of {@link renderI2pdTunnelsConf}. Keys files are relative to the i2pd datadir. */
export interface I2pdTunnelsConfOptions {
  /** Publish monerod's anonymous-inbound P2P port (default true). */
  publishP2p?: boolean
  /** Local P2P anonymous-inbound port (default 18085). */
  p2pPort?: number
  /** Keys file of the P2P destination (default {@link I2PD_P2P_KEYS_FILE}). */
  p2pKeysFile?: string
  /** Publish the restricted RPC port as its own destination (default false). */
  publishRestrictedRpc?: boolean
  /** Local restricted RPC port (default 18089). */
  restrictedRpcPort?: number
  /** Keys file of the restricted RPC destination (default {@link I2PD_RPC_KEYS_FILE}). */
  restrictedRpcKeysFile?: string
}

function keysFileName(value: string, what: string): string {
  lineSafe(value, what)
  // i2pd joins the value onto its datadir, so an absolute path would not mean what it says.
  if (value.startsWith('/') || value.split('/').includes('..')) {
    throw new RangeError(`${what} must be a path relative to the i2pd datadir without "..", got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * Render tunnels.conf: one server tunnel per published monerod port, each with its own
 * destination (keys file), forwarding to 127.0.0.1. `inport = 0` accepts any I2P port, as
 * monerod's anonymity-network guide configures it.
 */
export function renderI2pdTunnelsConf(opts: I2pdTunnelsConfOptions = {}): string {
  const tunnels: { name: string; port: number; keys: string }[] = []
  if (opts.publishP2p ?? true) {
    tunnels.push({
      name: I2PD_P2P_TUNNEL,
      port: port(opts.p2pPort ?? I2P_P2P_PORT, 'p2pPort'),
      keys: keysFileName(opts.p2pKeysFile ?? I2PD_P2P_KEYS_FILE, 'p2pKeysFile'),
    })
  }
  if (opts.publishRestrictedRpc ?? false) {
    tunnels.push({
      name: I2PD_RPC_TUNNEL,
      port: port(opts.restrictedRpcPort ?? RESTRICTED_RPC_PORT, 'restrictedRpcPort'),
      keys: keysFileName(opts.restrictedRpcKeysFile ?? I2PD_RPC_KEYS_FILE, 'restrictedRpcKeysFile'),
    })
  }
  const [first, second] = tunnels
  if (first && second) {
    if (first.port === second.port) throw new RangeError(`p2pPort and restrictedRpcPort must differ, both are ${first.port}`)
    if (first.keys === second.keys) throw new RangeError(`the P2P and restricted RPC tunnels need different keys files, both are ${first.keys}`)
  }
  const body = tunnels.map((t) => [`[${t.name}]`, 'type = server', 'host = 127.0.0.1', `port = ${t.port}`, 'inport = 0', `keys = ${t.keys}`].join('\n'))
  return `${['# Rendered by monero-operator. Do not edit: the operator rewrites it.', ...body].join('\n\n')}\n`
}
