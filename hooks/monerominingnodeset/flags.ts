/**
 * The xmrig flags the operator writes from structured fields, and the rules that keep raw
 * `xmrig.args` from contradicting them. One table feeds both the CRD's CEL rules (the
 * apiserver rejects at apply time) and the hook's own check (same messages), so a
 * `render` preview and the cluster agree.
 */

/** An xmrig command-line flag: `-o` (short; also `-oVALUE`) or `--url` (long; also `--url=VALUE`). */
export type Flag = `-${string}`

/** Whether one argument is the flag `f` (with or without an attached value). */
export function argIsFlag(arg: string, f: Flag): boolean {
  if (f.startsWith('--')) return arg === f || arg.startsWith(`${f}=`)
  return arg.startsWith(f) && !arg.startsWith('--')
}

/** The same test as a CEL expression over the string variable `a`. */
function celIsFlag(f: Flag): string {
  return f.startsWith('--') ? `a == '${f}' || a.startsWith('${f}=')` : `a.startsWith('${f}')`
}

/** The CEL condition "some argument of self.xmrig.args is one of flags". */
export function celArgsHaveAny(flags: readonly Flag[]): string {
  return `has(self.xmrig.args) && self.xmrig.args.exists(a, ${flags.map(celIsFlag).join(' || ')})`
}

/** A structured setting that owns some raw flags while it is set. */
export interface FlagRule {
  /** The field at fault, relative to spec (for the 422 answer). */
  readonly field: string
  /** CEL over the spec (`self`): true when the setting is in use. */
  readonly celActive: string
  /** The same test in TypeScript. */
  readonly active: (spec: SpecView) => boolean
  /** Raw flags that may not appear in xmrig.args while the setting is in use. */
  readonly flags: readonly Flag[]
  readonly message: string
}

/** The subset of the (defaulted) spec the rules read. */
export interface SpecView {
  pool?: { url?: string; user?: string; passwordSecretRef?: unknown; tls?: boolean; tlsFingerprint?: string; coin?: string }
  threads?: number
  maxThreadsHint?: number
  donateLevel?: number
  api: { enabled: boolean }
  metrics: { enabled: boolean }
}

export const FLAG_RULES: readonly FlagRule[] = [
  {
    field: 'pool.url',
    celActive: 'has(self.pool)',
    active: (s) => s.pool !== undefined,
    flags: ['-o', '--url'],
    message: 'set the pool either in pool.url or in xmrig.args (-o/--url), not both; for several (failover) pools use xmrig.args only',
  },
  {
    field: 'pool.user',
    celActive: 'has(self.pool)',
    active: (s) => s.pool !== undefined,
    flags: ['-u', '--user', '-O', '--userpass'],
    message: 'set the wallet/worker either in pool.user or in xmrig.args (-u/--user, -O/--userpass), not both',
  },
  {
    field: 'pool.passwordSecretRef',
    celActive: 'has(self.pool) && has(self.pool.passwordSecretRef)',
    active: (s) => s.pool?.passwordSecretRef !== undefined,
    flags: ['-p', '--pass'],
    message: 'set the pool password either in pool.passwordSecretRef or in xmrig.args (-p/--pass), not both',
  },
  {
    field: 'pool.tls',
    celActive: 'has(self.pool) && has(self.pool.tls)',
    active: (s) => s.pool?.tls !== undefined,
    flags: ['--tls'],
    message: 'set TLS either in pool.tls or in xmrig.args (--tls), not both',
  },
  {
    field: 'pool.tlsFingerprint',
    celActive: 'has(self.pool) && has(self.pool.tlsFingerprint)',
    active: (s) => s.pool?.tlsFingerprint !== undefined,
    flags: ['--tls-fingerprint'],
    message: 'set the TLS fingerprint either in pool.tlsFingerprint or in xmrig.args (--tls-fingerprint), not both',
  },
  {
    field: 'pool.coin',
    celActive: 'has(self.pool) && has(self.pool.coin)',
    active: (s) => s.pool?.coin !== undefined,
    flags: ['--coin', '-a', '--algo'],
    message: 'set the coin either in pool.coin or in xmrig.args (--coin, -a/--algo), not both',
  },
  {
    field: 'threads',
    celActive: 'has(self.threads) || has(self.maxThreadsHint)',
    active: (s) => s.threads !== undefined || s.maxThreadsHint !== undefined,
    flags: ['-t', '--threads', '--cpu-max-threads-hint'],
    message: 'set the thread count either in threads/maxThreadsHint or in xmrig.args (-t/--threads, --cpu-max-threads-hint), not both',
  },
  {
    field: 'donateLevel',
    celActive: 'has(self.donateLevel)',
    active: (s) => s.donateLevel !== undefined,
    flags: ['--donate-level'],
    message: 'set the donate level either in donateLevel or in xmrig.args (--donate-level), not both',
  },
  {
    field: 'xmrig.args',
    celActive: 'self.api.enabled || self.metrics.enabled',
    active: (s) => s.api.enabled || s.metrics.enabled,
    flags: ['--http-host', '--http-port', '--http-access-token', '--http-enabled'],
    message:
      'xmrig.args: the operator runs the xmrig HTTP API while api.enabled or metrics.enabled (--http-host, --http-port, --http-access-token); use api.port and api.accessTokenSecretRef',
  },
  {
    field: 'xmrig.args',
    celActive: 'true',
    active: () => true,
    flags: ['-B', '--background'],
    message: 'xmrig.args: -B/--background detaches xmrig and ends the container; remove it',
  },
]

/** Env var names the operator defines in the xmrig container. */
export const ENV_ID = 'id'
export const ENV_POD_NAME = 'POD_NAME'
export const ENV_PASSWORD = 'XMRIG_PASSWORD'
export const ENV_API_TOKEN = 'XMRIG_API_TOKEN'
export const RESERVED_ENV = [ENV_ID, ENV_POD_NAME, ENV_PASSWORD, ENV_API_TOKEN] as const
