/**
 * xmrig's command line: the flags the operator writes from the structured fields, then the
 * user's raw args. Merge rule: operator flags first (global ones, then the pool's), raw args
 * last and unchanged; a raw flag that a structured field also sets is rejected (validate.ts),
 * so nothing is silently overridden and xmrig's "last pool wins" rules never matter.
 */
import { argIsFlag } from './flags.js'
import { ENV_API_TOKEN, ENV_PASSWORD } from './flags.js'
import type { MoneroMiningNodeSetSpec } from './types.js'

/** Whether the xmrig HTTP API runs (for the exporter, or exposed). */
export function apiRuns(spec: MoneroMiningNodeSetSpec): boolean {
  return spec.api.enabled || spec.metrics.enabled
}

/** The full xmrig argument list of a spec, before Kubernetes' $(VAR) expansion. */
export function buildXmrigArgs(spec: MoneroMiningNodeSetSpec): string[] {
  const out: string[] = ['--no-color']
  if (apiRuns(spec)) {
    // Bound to loopback unless the API is meant for the cluster: the exporter is in the pod.
    out.push(`--http-host=${spec.api.enabled ? '0.0.0.0' : '127.0.0.1'}`, `--http-port=${spec.api.port}`)
    if (spec.api.accessTokenSecretRef) out.push(`--http-access-token=$(${ENV_API_TOKEN})`)
  }
  if (spec.threads !== undefined) out.push(`--threads=${spec.threads}`)
  if (spec.maxThreadsHint !== undefined) out.push(`--cpu-max-threads-hint=${spec.maxThreadsHint}`)
  if (spec.donateLevel !== undefined) out.push(`--donate-level=${spec.donateLevel}`)
  const pool = spec.pool
  if (pool) {
    // Pool options follow their -o: xmrig applies them to the last pool given.
    out.push(`--url=${pool.url}`, `--user=${pool.user}`)
    if (pool.passwordSecretRef) out.push(`--pass=$(${ENV_PASSWORD})`)
    if (pool.tls) out.push('--tls')
    if (pool.tlsFingerprint) out.push(`--tls-fingerprint=${pool.tlsFingerprint}`)
    if (pool.coin) out.push(`--coin=${pool.coin}`)
  }
  return [...out, ...(spec.xmrig.args ?? [])]
}

/** The pool in use: pool.url, else the first -o/--url of the raw args (undefined if none). */
export function poolInUse(spec: MoneroMiningNodeSetSpec): string | undefined {
  if (spec.pool) return spec.pool.url
  const args = spec.xmrig.args ?? []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '-o' || a === '--url') return args[i + 1]
    if (argIsFlag(a, '--url')) return a.slice('--url='.length)
    if (argIsFlag(a, '-o')) return a.slice(2)
  }
  return undefined
}
