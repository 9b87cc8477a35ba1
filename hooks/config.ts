/**
 * Configuration of every program, loaded in one place. The hook server (main.ts) and the
 * `render` CLI (cli.ts) both call loadHookConfig(), so a preview is exactly what the hook
 * answers: same image, same key seed read the same way. Builders never read the environment.
 */
import { readFileSync } from 'node:fs'

/** The hook server's configuration: everything a sync needs besides the request. */
export interface HookConfig {
  /** Our own image: runs the metrics exporter sidecar and the network's peer-wait init container. */
  readonly operatorImage: string
  /**
   * Per-installation secret from which hidden-service keys are derived (Tor/I2P). Undefined:
   * resources that enable Tor or I2P without their own key Secret are rejected.
   */
  readonly keySeed?: Uint8Array | undefined
}

/** The image built from this repository, tagged with the package version. */
export const DEFAULT_OPERATOR_IMAGE = 'ghcr.io/utxobr/monero-operator:0.1.0'

export const DEFAULT_CONFIG: HookConfig = { operatorImage: DEFAULT_OPERATOR_IMAGE }

/** The shortest key seed accepted. */
export const MIN_KEY_SEED_BYTES = 32

/** A configuration the program cannot start with; the message names the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Command-line settings that override the environment. */
export interface ConfigFlags {
  /** `render --key-seed-file FILE`: wins over KEY_SEED_FILE and KEY_SEED. */
  readonly keySeedFile?: string | undefined
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * The key seed: a file (a mounted Secret; the flag, then KEY_SEED_FILE) wins over KEY_SEED.
 * Surrounding whitespace (the newline an editor or `echo` leaves) is not part of the seed.
 */
export function readKeySeed(env: Env, flags: ConfigFlags = {}): Uint8Array | undefined {
  const file = flags.keySeedFile ?? (env.KEY_SEED_FILE || undefined)
  const raw = file !== undefined ? readFileSync(file) : env.KEY_SEED ? Buffer.from(env.KEY_SEED, 'utf8') : undefined
  if (raw === undefined) return undefined
  const seed = Buffer.from(raw.toString('utf8').trim(), 'utf8')
  if (seed.length < MIN_KEY_SEED_BYTES) {
    throw new ConfigError(`the key seed (${file !== undefined ? file : 'KEY_SEED'}) must be at least ${MIN_KEY_SEED_BYTES} bytes`)
  }
  return seed
}

/** What a sync depends on besides the request: OPERATOR_IMAGE and the key seed. */
export function loadHookConfig(env: Env = process.env, flags: ConfigFlags = {}): HookConfig {
  return { operatorImage: env.OPERATOR_IMAGE || DEFAULT_OPERATOR_IMAGE, keySeed: readKeySeed(env, flags) }
}

/** The hook server's settings. */
export interface ServerConfig {
  readonly hook: HookConfig
  readonly port: number
  readonly host: string
  readonly logLevel: string
  readonly bodyLimit: number
  readonly requestTimeout: number
  /** When set, the hook routes require this bearer token. */
  readonly bearerToken: string | undefined
}

export const DEFAULT_PORT = 8080
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024
export const DEFAULT_REQUEST_TIMEOUT = 30_000

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`)
  return n
}

/** The hook bearer token, when configured: a readable, non-empty file or a refusal to start. */
function bearerToken(env: Env): string | undefined {
  const file = env.HOOK_BEARER_TOKEN_FILE
  if (!file) return undefined
  const token = readFileSync(file, 'utf8').trim()
  if (token.length === 0) throw new ConfigError(`HOOK_BEARER_TOKEN_FILE ${file} is empty`)
  return token
}

/**
 * The hook server's configuration from its environment: PORT (8080), HOST (0.0.0.0),
 * LOG_LEVEL (info), BODY_LIMIT_BYTES (64 MiB), REQUEST_TIMEOUT_MS (30000),
 * HOOK_BEARER_TOKEN_FILE, and the hook configuration (loadHookConfig).
 */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  return {
    hook: loadHookConfig(env),
    port: intFrom(env, 'PORT', DEFAULT_PORT),
    host: env.HOST || '0.0.0.0',
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: intFrom(env, 'BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT),
    requestTimeout: intFrom(env, 'REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_TIMEOUT),
    bearerToken: bearerToken(env),
  }
}
