/**
 * `npm start`: serves the hooks on HOST:PORT with JSON logs, drains in-flight requests on
 * SIGTERM/SIGINT and exits.
 *
 * Environment: PORT (8080), HOST (0.0.0.0), LOG_LEVEL (info), BODY_LIMIT_BYTES (64 MiB),
 * REQUEST_TIMEOUT_MS (30000), OPERATOR_IMAGE (our image, for sidecars), KEY_SEED_FILE or
 * KEY_SEED (per-installation secret for Tor/I2P key derivation, at least 32 bytes),
 * HOOK_BEARER_TOKEN_FILE (when set, sync hooks require that bearer token),
 * RESPONSE_CACHE_BYTES (16 MiB; bytes of recent sync answers kept for repeated requests, 0 = off).
 */
import { readFileSync } from 'node:fs'
import { DEFAULT_OPERATOR_IMAGE, type HookConfig } from './config.js'
import { warmUp } from './handlers.js'
import { buildServer, DEFAULT_BODY_LIMIT, DEFAULT_RESPONSE_CACHE_BYTES } from './server.js'

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`)
  return n
}

/** Reads the key seed: a file (mounted Secret) wins over the variable. */
function keySeedFromEnv(): Uint8Array | undefined {
  const file = process.env.KEY_SEED_FILE
  const raw = file ? readFileSync(file) : process.env.KEY_SEED ? Buffer.from(process.env.KEY_SEED, 'utf8') : undefined
  if (raw === undefined) return undefined
  const trimmed = Buffer.from(raw.toString('utf8').trim(), 'utf8')
  if (trimmed.length < 32) throw new Error('the key seed (KEY_SEED_FILE or KEY_SEED) must be at least 32 bytes')
  return trimmed
}

/** The hook bearer token, when configured: a readable, non-empty file or a refusal to start. */
function bearerTokenFromEnv(): string | undefined {
  const file = process.env.HOOK_BEARER_TOKEN_FILE
  if (!file) return undefined
  const token = readFileSync(file, 'utf8').trim()
  if (token.length === 0) throw new Error(`HOOK_BEARER_TOKEN_FILE ${file} is empty`)
  return token
}

async function main(): Promise<void> {
  const config: HookConfig = {
    operatorImage: process.env.OPERATOR_IMAGE || DEFAULT_OPERATOR_IMAGE,
    keySeed: keySeedFromEnv(),
  }
  const app = buildServer({
    config,
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
    bodyLimit: intFromEnv('BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT),
    requestTimeout: intFromEnv('REQUEST_TIMEOUT_MS', 30_000),
    bearerToken: bearerTokenFromEnv(),
    responseCacheBytes: intFromEnv('RESPONSE_CACHE_BYTES', DEFAULT_RESPONSE_CACHE_BYTES),
  })
  warmUp()
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      app.log.error('in-flight requests did not finish within 25s; exiting')
      process.exit(1)
    }, 25_000)
    force.unref()
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  await app.listen({ port: intFromEnv('PORT', 8080), host: process.env.HOST || '0.0.0.0' })
  app.log.info({ keySeed: config.keySeed ? 'configured' : 'absent', operatorImage: config.operatorImage }, 'hook server ready')
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 50, msg: 'failed to start', err: String(err) }))
  process.exit(1)
})
