/**
 * `cli init-node`: the init container of monerod pods that need files prepared at start.
 *
 * It waits until every `add-exclusive-node` host in the included config files resolves
 * (monerod resolves them once at start and aborts on the first failure), then writes one
 * monerod config file from the includes. Included files are re-read on every attempt, so a
 * peer list that kubelet refreshes after a scale-down is picked up.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { exclusivePeerHosts, unresolved } from './wait-peers.js'

export interface InitNodeOptions {
  out: string
  includes: string[]
  waitPeers: boolean
  intervalSeconds: number
  maxWaitSeconds: number
}

export function parseInitNodeArgs(argv: string[]): InitNodeOptions {
  const opts: InitNodeOptions = { out: '', includes: [], waitPeers: false, intervalSeconds: 2, maxWaitSeconds: 0 }
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
    else throw new Error(`init-node: unknown option ${String(a)}`)
  }
  if (!opts.out) throw new Error('init-node: --out FILE is required')
  return opts
}

/** The combined config text of the includes (each ends with a newline). */
export function combineConfigs(texts: readonly string[]): string {
  return texts.map((t) => (t.endsWith('\n') || t === '' ? t : `${t}\n`)).join('')
}

export async function runInitNode(argv: string[], log: (line: object) => void = (l) => console.log(JSON.stringify(l))): Promise<number> {
  const opts = parseInitNodeArgs(argv)
  const started = Date.now()
  let lastReport = 0
  for (;;) {
    const text = combineConfigs(opts.includes.map((f) => readFileSync(f, 'utf8')))
    const missing = opts.waitPeers ? await unresolved(exclusivePeerHosts(text)) : []
    if (missing.length === 0) {
      mkdirSync(dirname(opts.out), { recursive: true })
      writeFileSync(opts.out, text, { mode: 0o644 })
      log({ msg: 'monerod config written', out: opts.out, peers: exclusivePeerHosts(text).length })
      return 0
    }
    if (opts.maxWaitSeconds > 0 && (Date.now() - started) / 1000 >= opts.maxWaitSeconds) {
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
