/**
 * Peer-name resolution for the init container (see init-node.ts): monerod resolves the host
 * of every --add-exclusive-node once at start and aborts if one does not resolve.
 */
import { lookup } from 'node:dns/promises'

/** Hosts of the `add-exclusive-node=host:port` lines of a monerod config file. */
export function exclusivePeerHosts(configText: string): string[] {
  const hosts: string[] = []
  for (const line of configText.split('\n')) {
    const m = /^\s*add-exclusive-node\s*=\s*(.+?)\s*$/.exec(line)
    if (!m) continue
    const endpoint = m[1] as string
    const host = endpoint.startsWith('[') ? endpoint.slice(1, endpoint.indexOf(']')) : endpoint.replace(/:\d+$/, '')
    hosts.push(host)
  }
  return [...new Set(hosts)]
}

/** Hosts among `hosts` that do not resolve now. */
export async function unresolved(hosts: readonly string[], resolve = (h: string) => lookup(h)): Promise<string[]> {
  const results = await Promise.allSettled(hosts.map((h) => resolve(h)))
  return hosts.filter((_, i) => results[i]?.status === 'rejected')
}
