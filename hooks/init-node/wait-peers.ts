/**
 * Peer names for `cli init-node` (see init-node.ts).
 *
 * monerod must never resolve a peer name itself: 0.18.0.0 cannot split `name:port`
 * (monero-project/monero#8633) and every version aborts at start on a name that does not
 * resolve. So init-node resolves every `add-exclusive-node` host that is a name and writes
 * `add-exclusive-node=<IP>:<port>`, which every monerod 0.17.x-0.18.x accepts on every
 * nettype. The names are our per-member ClusterIP Services: their address is stable for the
 * life of the Service.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/** One `add-exclusive-node=` line: its host and port text (`:18080`, or '' without a port). */
export interface PeerLine {
  readonly host: string
  readonly port: string
}

const PEER_LINE = /^\s*add-exclusive-node\s*=\s*(.+?)\s*$/

/** The host and port of an `add-exclusive-node=host[:port]` line, or undefined for other lines. */
export function parsePeerLine(line: string): PeerLine | undefined {
  const m = PEER_LINE.exec(line)
  if (!m) return undefined
  const endpoint = m[1] as string
  if (endpoint.startsWith('[')) {
    const close = endpoint.indexOf(']')
    return { host: endpoint.slice(1, close), port: endpoint.slice(close + 1) }
  }
  const p = /^(.*?)(:\d+)?$/.exec(endpoint) as RegExpExecArray
  return { host: p[1] as string, port: p[2] ?? '' }
}

/** Hosts of the `add-exclusive-node=host:port` lines of a monerod config file. */
export function exclusivePeerHosts(configText: string): string[] {
  const hosts: string[] = []
  for (const line of configText.split('\n')) {
    const peer = parsePeerLine(line)
    if (peer) hosts.push(peer.host)
  }
  return [...new Set(hosts)]
}

/**
 * A host monerod takes as it is: an IP address, or a Tor / I2P address (reached through its
 * proxy, never resolved). Everything else is a name init-node resolves.
 */
export function isLiteralHost(host: string): boolean {
  return isIP(host) !== 0 || /\.onion$/i.test(host) || /\.i2p$/i.test(host)
}

/** `IP:port` as monerod reads it (IPv6 in brackets). */
export function endpointOf(ip: string, port: string): string {
  return isIP(ip) === 6 ? `[${ip}]${port}` : `${ip}${port}`
}

/** Resolves one name to one address; rejects when it does not resolve. */
export type Resolver = (host: string) => Promise<string>

/** The system resolver (search domains of the pod's resolv.conf apply); IPv4 preferred. */
export const systemResolver: Resolver = async (host) => {
  const all = await lookup(host, { all: true })
  const chosen = all.find((a) => a.family === 4) ?? all[0]
  if (!chosen) throw new Error(`no address for ${host}`)
  return chosen.address
}

/** `fn` over `items`, at most `limit` at a time; results in order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i] as T) }
      } catch (reason) {
        results[i] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** getaddrinfo runs on libuv's 4 threads: more lookups in flight only queue there. */
const LOOKUPS_IN_FLIGHT = 8

/** Hosts among `hosts` that do not resolve now. */
export async function unresolved(hosts: readonly string[], resolve: Resolver = systemResolver): Promise<string[]> {
  const results = await mapLimited(hosts, LOOKUPS_IN_FLIGHT, resolve)
  return hosts.filter((_, i) => results[i]?.status === 'rejected')
}

/**
 * The last known address of every listed peer name. A name keeps its address while it is
 * listed, also when a lookup fails (a DNS hiccup must not drop a member), and is forgotten
 * when the list drops it.
 *
 * Each refresh looks up every name without a known address, and up to `recheck` of the
 * known ones, round-robin: a network of up to `recheck` members re-checks every name on every
 * refresh, and a 1000-member network does not send 1000 lookups per pod every few seconds.
 */
export class PeerAddresses {
  private readonly known = new Map<string, string>()
  private cursor = 0

  constructor(
    private readonly resolve: Resolver = systemResolver,
    private readonly recheck = 64,
  ) {}

  /** Address of a name, if known. */
  get(host: string): string | undefined {
    return this.known.get(host)
  }

  get size(): number {
    return this.known.size
  }

  /**
   * Forget names no longer listed, then look names up. Returns the listed names that have no
   * address.
   */
  async refresh(names: readonly string[]): Promise<string[]> {
    const listed = new Set(names)
    for (const host of [...this.known.keys()]) if (!listed.has(host)) this.known.delete(host)
    const unknown = names.filter((h) => !this.known.has(h))
    const known = names.filter((h) => this.known.has(h))
    let again: string[] = known
    if (known.length > this.recheck) {
      const start = this.cursor % known.length
      again = [...known, ...known].slice(start, start + this.recheck)
      this.cursor = start + this.recheck
    }
    const wanted = [...unknown, ...again]
    const results = await mapLimited(wanted, LOOKUPS_IN_FLIGHT, this.resolve)
    wanted.forEach((host, i) => {
      const r = results[i]
      if (r?.status === 'fulfilled') this.known.set(host, r.value)
    })
    return names.filter((h) => !this.known.has(h))
  }
}
