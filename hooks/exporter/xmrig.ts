/**
 * Minimal reader of xmrig's HTTP API (`--http-host/--http-port/--http-access-token`):
 * `GET /2/summary` with an optional Bearer token.
 */
import type { XmrigSummary } from './collector.js'

/** Options of {@link fetchXmrigSummary}. */
export interface XmrigSource {
  /** Base URL of xmrig's HTTP API, e.g. "http://127.0.0.1:8080". */
  url: string
  /** `--http-access-token`, sent as `Authorization: Bearer …`. */
  token?: string
}

/** Error of the xmrig API call, naming the URL. */
export class XmrigApiError extends Error {
  constructor(
    message: string,
    readonly url: string,
    /** HTTP status when the server answered. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'XmrigApiError'
  }
}

/** Fetches and minimally validates `/2/summary` within `timeoutMs`. */
export async function fetchXmrigSummary(source: XmrigSource, timeoutMs: number): Promise<XmrigSummary> {
  const url = `${source.url.replace(/\/+$/, '')}/2/summary`
  const headers: Record<string, string> = { accept: 'application/json' }
  if (source.token !== undefined && source.token !== '') headers.authorization = `Bearer ${source.token}`
  let res: Response
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const name = (err as Error | undefined)?.name
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new XmrigApiError(`xmrig /2/summary at ${url} timed out after ${timeoutMs} ms`, url)
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const detail = cause?.code ?? cause?.message ?? (err as Error).message
    throw new XmrigApiError(`xmrig /2/summary at ${url}: connection failed (${detail})`, url, undefined, { cause: err })
  }
  let text: string
  try {
    text = await res.text()
  } catch (err) {
    throw new XmrigApiError(`xmrig /2/summary at ${url}: reading the body failed`, url, res.status, { cause: err })
  }
  if (!res.ok) throw new XmrigApiError(`xmrig /2/summary at ${url} answered HTTP ${res.status}`, url, res.status)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new XmrigApiError(`xmrig /2/summary at ${url}: not JSON`, url, res.status)
  }
  if (!isSummary(body)) throw new XmrigApiError(`xmrig /2/summary at ${url}: unexpected shape`, url, res.status)
  return body
}

function isSummary(v: unknown): v is XmrigSummary {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  const hashrate = o.hashrate as Record<string, unknown> | undefined
  const results = o.results as Record<string, unknown> | undefined
  const connection = o.connection as Record<string, unknown> | undefined
  return (
    typeof o.uptime === 'number' &&
    typeof o.version === 'string' &&
    typeof hashrate === 'object' &&
    hashrate !== null &&
    Array.isArray(hashrate.total) &&
    typeof results === 'object' &&
    results !== null &&
    typeof results.shares_good === 'number' &&
    typeof results.shares_total === 'number' &&
    typeof connection === 'object' &&
    connection !== null &&
    typeof connection.pool === 'string'
  )
}
