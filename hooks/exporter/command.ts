/**
 * `cli exporter …`: runs the metrics exporter sidecar until SIGTERM/SIGINT.
 *
 * ```
 * cli exporter --monerod http://127.0.0.1:18081 [--rpc-login-file /secrets/rpc-login]
 * cli exporter --xmrig http://127.0.0.1:8080 [--token T | --token-file PATH]
 *   common: [--port 9533] [--host 0.0.0.0] [--timeout-ms 5000]
 * ```
 * - `--port` defaults to **9533**: not node_exporter's 9100 (a pod may sit next to one on the
 *   host network) and outside monerod's 18080–18089 range.
 * - `--timeout-ms` bounds every RPC call of a scrape; keep it below Prometheus'
 *   `scrape_timeout` (default 10 s) so a hung monerod still yields `monerod_up 0`.
 * - `--rpc-login-file` holds `user:password` (monerod's `--rpc-login` format; a trailing
 *   newline is ignored), as mounted from a Secret.
 * Every flag also accepts the `--flag=value` form.
 */
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'

import { MonerodClient } from '../monerod/client.js'
import { buildExporter, type ExporterTarget } from './server.js'

/** Default listen port of the exporter. */
export const DEFAULT_EXPORTER_PORT = 9533
/** Default per-RPC-call budget in milliseconds. */
export const DEFAULT_EXPORTER_TIMEOUT_MS = 5000

/** Parsed command line of `cli exporter`. */
export interface ExporterConfig {
  mode: 'monerod' | 'xmrig'
  /** monerod RPC base URL or xmrig HTTP API base URL. */
  url: string
  port: number
  host: string
  timeoutMs: number
  /** xmrig: access token given inline. */
  token?: string
  /** xmrig: file holding the access token. */
  tokenFile?: string
  /** monerod: file holding `user:password`. */
  rpcLoginFile?: string
}

/** A bad command line; `message` is meant for the user. */
export class ExporterUsageError extends Error {
  override name = 'ExporterUsageError'
}

/** Usage text of `cli exporter`. */
export const EXPORTER_USAGE = `usage: cli exporter (--monerod URL [--rpc-login-file PATH] | --xmrig URL [--token T | --token-file PATH])
                    [--port N (default ${DEFAULT_EXPORTER_PORT})] [--host ADDR (default 0.0.0.0)] [--timeout-ms MS (default ${DEFAULT_EXPORTER_TIMEOUT_MS})]`

const STRING_FLAGS = ['monerod', 'xmrig', 'token', 'token-file', 'port', 'host', 'timeout-ms', 'rpc-login-file'] as const

/** Parses `cli exporter` arguments (without the subcommand itself). Throws {@link ExporterUsageError}. */
export function parseExporterArgs(argv: readonly string[]): ExporterConfig {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean' },
        ...Object.fromEntries(STRING_FLAGS.map((name) => [name, { type: 'string', multiple: true }])),
      } as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
    })
  } catch (err) {
    const { code, message } = err as { code?: string; message: string }
    const quoted = /'([^']*)'/.exec(message)?.[1] ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ExporterUsageError(`unknown flag ${quoted}\n${EXPORTER_USAGE}`)
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new ExporterUsageError(`unexpected argument "${quoted}"\n${EXPORTER_USAGE}`)
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new ExporterUsageError(`${quoted.split(' ')[0]} needs a value`)
    throw err
  }
  if (parsed.values.help) throw new ExporterUsageError(EXPORTER_USAGE)
  const values = new Map<string, string>()
  for (const name of STRING_FLAGS) {
    const given = parsed.values[name] as string[] | undefined
    if (given === undefined) continue
    if (given.length > 1) throw new ExporterUsageError(`--${name} given twice`)
    const value = given[0]
    if (value === undefined || value === '') throw new ExporterUsageError(`--${name} needs a value`)
    values.set(name, value)
  }
  const monerod = values.get('monerod')
  const xmrig = values.get('xmrig')
  if ((monerod === undefined) === (xmrig === undefined)) {
    throw new ExporterUsageError(`give exactly one of --monerod URL or --xmrig URL\n${EXPORTER_USAGE}`)
  }
  const mode = monerod !== undefined ? 'monerod' : 'xmrig'
  const url = (monerod ?? xmrig)!
  try {
    const u = new URL(url)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http')
  } catch {
    throw new ExporterUsageError(`--${mode} must be an http(s) URL, got "${url}"`)
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values.get(name)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ExporterUsageError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`)
    }
    return n
  }
  const config: ExporterConfig = {
    mode,
    url,
    port: int('port', DEFAULT_EXPORTER_PORT, 0, 65535),
    host: values.get('host') ?? '0.0.0.0',
    timeoutMs: int('timeout-ms', DEFAULT_EXPORTER_TIMEOUT_MS, 1, 600_000),
  }
  const token = values.get('token')
  const tokenFile = values.get('token-file')
  const rpcLoginFile = values.get('rpc-login-file')
  if (mode === 'monerod' && (token !== undefined || tokenFile !== undefined)) {
    throw new ExporterUsageError('--token/--token-file apply to --xmrig only')
  }
  if (mode === 'xmrig' && rpcLoginFile !== undefined) throw new ExporterUsageError('--rpc-login-file applies to --monerod only')
  if (token !== undefined && tokenFile !== undefined) throw new ExporterUsageError('give --token or --token-file, not both')
  if (token !== undefined) config.token = token
  if (tokenFile !== undefined) config.tokenFile = tokenFile
  if (rpcLoginFile !== undefined) config.rpcLoginFile = rpcLoginFile
  return config
}

/** Splits monerod's `user[:password]` login format. */
export function parseRpcLogin(text: string): { username: string; password: string } {
  const line = text.replace(/\r?\n$/, '')
  const colon = line.indexOf(':')
  if (line === '') throw new ExporterUsageError('the rpc login file is empty')
  return colon < 0 ? { username: line, password: '' } : { username: line.slice(0, colon), password: line.slice(colon + 1) }
}

/** Test hooks of {@link runExporterCommand}. */
export interface RunExporterHooks {
  /** Stops the exporter like SIGTERM does. */
  signal?: AbortSignal
  /** Called with the bound address once listening. */
  onListening?: (address: string) => void
  /** Where the log lines go (default: stdout). */
  logStream?: { write(line: string): void }
}

/**
 * The URL of the address a server really listens on: `http://0.0.0.0:9533` when bound to
 * every IPv4 address (Fastify's listen() answers with a loopback URL then), `http://[::]:9533`
 * for every address.
 */
export function boundUrl(address: AddressInfo | string | null): string {
  if (address === null) return 'unknown'
  if (typeof address === 'string') return address
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

/**
 * Runs `cli exporter` with the arguments after the subcommand: listens, serves until
 * SIGTERM/SIGINT (or `hooks.signal`), then closes gracefully and resolves. Throws
 * {@link ExporterUsageError} on a bad command line (the CLI should print it and exit 2).
 */
export async function runExporterCommand(argv: string[], hooks: RunExporterHooks = {}): Promise<void> {
  const config = parseExporterArgs(argv)
  let target: ExporterTarget
  let client: MonerodClient | undefined
  if (config.mode === 'monerod') {
    const login = config.rpcLoginFile !== undefined ? parseRpcLogin(await readFile(config.rpcLoginFile, 'utf8')) : undefined
    client = new MonerodClient({ url: config.url, timeoutMs: config.timeoutMs, ...login })
    target = { kind: 'monerod', client }
  } else {
    const token = config.tokenFile !== undefined ? (await readFile(config.tokenFile, 'utf8')).trim() : config.token
    target = { kind: 'xmrig', source: token !== undefined ? { url: config.url, token } : { url: config.url } }
  }
  const level = process.env.LOG_LEVEL ?? 'info'
  const app = buildExporter({ target, timeoutMs: config.timeoutMs, logger: hooks.logStream ? { level, stream: hooks.logStream } : { level } })

  let onSignal: (sig: NodeJS.Signals) => void = () => {}
  const stopped = new Promise<string>((resolve) => {
    onSignal = (sig) => resolve(sig)
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    hooks.signal?.addEventListener('abort', () => resolve('abort'), { once: true })
    if (hooks.signal?.aborted) resolve('abort')
  })

  const address = await app.listen({ port: config.port, host: config.host })
  app.log.info({ mode: config.mode, target: client?.url ?? config.url, timeoutMs: config.timeoutMs }, `exporter listening on ${boundUrl(app.server.address())}`)
  hooks.onListening?.(address)
  const reason = await stopped
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  app.log.info({ reason }, 'exporter shutting down')
  await app.close()
  client?.close()
}
