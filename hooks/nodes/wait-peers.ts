/**
 * `cli wait-peers`: the init container of a network's pods. monerod resolves the host of
 * every --add-exclusive-node once at start and aborts if one does not resolve; this waits
 * until all of them resolve, so monerod starts once, cleanly, instead of crash-looping while
 * the network's Services appear.
 */
import { lookup } from 'node:dns/promises'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

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

export async function runWaitPeers(argv: string[]): Promise<number> {
  let config: string | undefined
  let interval = 2
  let maxWait = 0
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') config = argv[++i]
    else if (argv[i] === '--interval-seconds') interval = Number(argv[++i])
    else if (argv[i] === '--max-wait-seconds') maxWait = Number(argv[++i])
    else throw new Error(`wait-peers: unknown option ${String(argv[i])}`)
  }
  if (!config) throw new Error('wait-peers: --config FILE is required')
  const hosts = exclusivePeerHosts(readFileSync(config, 'utf8'))
  const started = Date.now()
  let lastReport = 0
  for (;;) {
    const missing = await unresolved(hosts)
    if (missing.length === 0) {
      console.log(JSON.stringify({ msg: 'all peers resolve', peers: hosts.length }))
      return 0
    }
    const waited = (Date.now() - started) / 1000
    if (maxWait > 0 && waited >= maxWait) {
      console.error(JSON.stringify({ msg: 'peers still unresolved', missing: missing.slice(0, 20), count: missing.length }))
      return 1
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now()
      console.log(JSON.stringify({ msg: 'waiting for peer names to resolve', missing: missing.slice(0, 5), count: missing.length }))
    }
    await sleep(interval * 1000)
  }
}
