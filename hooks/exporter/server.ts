/**
 * The exporter's HTTP app: `buildExporter(opts)` returns a Fastify instance that never
 * listens (command.ts listens; tests use `inject`).
 *
 * Routes:
 * - `GET /metrics`: scrapes the target now (RPC calls in parallel, each bounded by
 *   `timeoutMs`, so the answer comes within about `timeoutMs` even when the target hangs),
 *   then renders the exporter's own registry. Content negotiation on `Accept`: OpenMetrics
 *   1.0 when the client prefers `application/openmetrics-text`, else Prometheus text 0.0.4.
 *   Concurrent scrapes share one round of RPC calls.
 * - `GET /healthz`: 200 while the process serves HTTP (liveness must not follow monerod).
 * - `GET /readyz`: monerod mode: 200 only when get_info says `synchronized`; xmrig mode:
 *   200 only when xmrig is connected to its pool; else 503 with the reason.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type OpenMetricsContentType } from 'prom-client'

import type { MonerodClient } from '../monerod/client.js'
import {
  MONEROD_METRICS,
  XMRIG_COUNTERS,
  XMRIG_METRICS,
  collectMonerodSamples,
  collectXmrigSamples,
  type GaugeSpec,
  type MonerodSnapshot,
  type Sample,
  type XmrigSummary,
} from './collector.js'
import { fetchXmrigSummary, type XmrigSource } from './xmrig.js'

/** The client calls a monerod scrape needs ({@link MonerodClient} satisfies it; tests may fake it). */
export type MonerodScrapeClient = Pick<MonerodClient, 'getInfo' | 'getLastBlockHeader' | 'getTransactionPoolStats'>

/** What the exporter watches. */
export type ExporterTarget =
  | { kind: 'monerod'; client: MonerodScrapeClient }
  | { kind: 'xmrig'; source: XmrigSource; fetchSummary?: (timeoutMs: number) => Promise<XmrigSummary> }

/** Options of {@link buildExporter}. */
export interface ExporterOptions {
  target: ExporterTarget
  /** Budget of every RPC call of a scrape or readiness check, in ms. Default 5000. */
  timeoutMs?: number
  /** Include prom-client's process_* and nodejs_* metrics. Default true. */
  processMetrics?: boolean
  /** Fastify logger option. Default false. */
  logger?: FastifyServerOptions['logger']
}

/** The RPC calls a monerod scrape makes; also the `method` label values of the error counter. */
export const MONEROD_SCRAPE_METHODS = ['get_info', 'get_last_block_header', 'get_transaction_pool_stats'] as const
/** The `method` label value of the xmrig error counter. */
export const XMRIG_SCRAPE_METHODS = ['summary'] as const

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8'
const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

/**
 * Picks the exposition format from an Accept header: OpenMetrics when
 * `application/openmetrics-text` is acceptable with a quality at least that of text/plain
 * (or of a wildcard), Prometheus text otherwise.
 */
export function negotiateMetricsFormat(accept: string | undefined): 'openmetrics' | 'prometheus' {
  if (accept === undefined || accept === '') return 'prometheus'
  let om = -1
  let text = -1
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q)) continue
    if (type === 'application/openmetrics-text') om = Math.max(om, q)
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q)
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus'
}

/** The metric objects of one exporter, registered in both a Prometheus and an OpenMetrics registry. */
export interface ExporterMetrics {
  /** Prometheus text registry (the primary one; use it to list metric names). */
  registry: Registry
  /** The same metric objects, rendered as OpenMetrics. */
  openMetricsRegistry: Registry<OpenMetricsContentType>
  /** Renders all metrics in one format (use this rather than the registries' metrics()). */
  render(format: 'openmetrics' | 'prometheus'): Promise<string>
  /** Overwrites the target gauges with one scrape's samples (absent samples disappear). */
  apply(samples: readonly Sample[]): void
  scrapeDuration: Gauge
  rpcErrors: Counter<'method'>
}

/** Creates the registries and metric objects of the given mode. */
export function buildExporterMetrics(kind: ExporterTarget['kind'], processMetrics = true): ExporterMetrics {
  const registry = new Registry()
  const gauges = new Map<string, Gauge<string>>()
  const counters = new Map<string, Counter<string>>()
  const specs: Record<string, GaugeSpec> = kind === 'monerod' ? MONEROD_METRICS : XMRIG_METRICS
  for (const [name, spec] of Object.entries(specs)) {
    gauges.set(name, new Gauge({ name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] }))
  }
  if (kind === 'xmrig') {
    for (const [name, spec] of Object.entries(XMRIG_COUNTERS)) {
      counters.set(name, new Counter({ name, help: spec.help, registers: [registry] }))
    }
  }
  const scrapeDuration = new Gauge({
    name: 'monero_exporter_scrape_duration_seconds',
    help: 'Duration of the last scrape of the target, RPC calls included, in seconds.',
    registers: [registry],
  })
  const rpcErrors = new Counter({
    name: 'monero_exporter_rpc_errors_total',
    help: 'Failed RPC calls to the target since the exporter started, by method.',
    labelNames: ['method'] as const,
    registers: [registry],
  })
  for (const method of kind === 'monerod' ? MONEROD_SCRAPE_METHODS : XMRIG_SCRAPE_METHODS) rpcErrors.inc({ method }, 0)
  if (processMetrics) collectDefaultMetrics({ register: registry })

  // A registry renders in one format, so the same metric objects go into a second registry.
  const openMetricsRegistry = new Registry<OpenMetricsContentType>()
  openMetricsRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
  // getMetricsAsArray() returns the metric instances themselves (typed as plain objects).
  const all = registry.getMetricsAsArray() as unknown as (Metric & { name: string })[]
  for (const m of all) openMetricsRegistry.registerMetric(m)
  // prom-client's OpenMetrics rendering renames counters in place ("x_total" -> "x"), which
  // would drop the suffix from later Prometheus renders: remember the names, restore them
  // before every render, and never render both formats at once.
  const names = all.map((m) => [m, m.name] as const)
  let renderQueue: Promise<unknown> = Promise.resolve()
  const render = (format: 'openmetrics' | 'prometheus'): Promise<string> => {
    const run = renderQueue.then(() => {
      for (const [m, name] of names) m.name = name
      return format === 'openmetrics' ? openMetricsRegistry.metrics() : registry.metrics()
    })
    renderQueue = run.catch(() => undefined)
    return run
  }

  const apply = (samples: readonly Sample[]): void => {
    // Absent samples must disappear: reset() alone leaves an unlabelled metric at 0.
    for (const g of gauges.values()) {
      g.reset()
      g.remove({})
    }
    for (const c of counters.values()) {
      c.reset()
      c.remove({})
    }
    for (const s of samples) {
      const gauge = gauges.get(s.name)
      if (gauge !== undefined) {
        if (s.labels === undefined) gauge.set(s.value)
        else gauge.set(s.labels, s.value)
        continue
      }
      const counter = counters.get(s.name)
      if (counter !== undefined && s.value >= 0) counter.inc(s.value)
    }
  }
  return { registry, openMetricsRegistry, render, apply, scrapeDuration, rpcErrors }
}

const PROBE_PATHS = new Set(['/healthz', '/readyz'])

/** Whether a request URL is a kubelet probe (logged at debug level only). */
export function isProbe(url: string | undefined): boolean {
  const path = (url ?? '').split('?', 1)[0] ?? ''
  return PROBE_PATHS.has(path)
}

/** Builds the exporter app; it never listens. See the module documentation. */
export function buildExporter(opts: ExporterOptions): FastifyInstance {
  const timeoutMs = opts.timeoutMs ?? 5000
  const { target } = opts
  const metrics = buildExporterMetrics(target.kind, opts.processMetrics ?? true)
  // Kubelet probes /healthz and /readyz every few seconds: their request lines go to debug,
  // not info (Fastify's own request logging would write two info lines per probe).
  const app = Fastify({ logger: opts.logger ?? false, disableRequestLogging: (request) => isProbe(request.url) })
  app.addHook('onResponse', async (request, reply) => {
    if (isProbe(request.url)) {
      request.log.debug({ url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'probe answered')
    }
  })

  const fetchSummary = target.kind === 'xmrig' ? (target.fetchSummary ?? ((t: number) => fetchXmrigSummary(target.source, t))) : undefined

  const scrapeOnce = async (): Promise<void> => {
    const started = performance.now()
    let samples: Sample[]
    if (target.kind === 'monerod') {
      const call = { timeoutMs }
      const [info, last, pool] = await Promise.allSettled([
        target.client.getInfo(call),
        target.client.getLastBlockHeader(call),
        target.client.getTransactionPoolStats(call),
      ])
      const snapshot: MonerodSnapshot = {}
      if (info.status === 'fulfilled') snapshot.info = info.value
      if (last.status === 'fulfilled') snapshot.lastBlock = last.value.block_header
      if (pool.status === 'fulfilled') snapshot.txPool = pool.value.pool_stats
      ;[info, last, pool].forEach((r, i) => {
        if (r.status === 'rejected') {
          metrics.rpcErrors.inc({ method: MONEROD_SCRAPE_METHODS[i] ?? 'unknown' })
          app.log.debug({ err: r.reason }, 'monerod RPC failed')
        }
      })
      samples = collectMonerodSamples(snapshot)
    } else {
      let summary: XmrigSummary | undefined
      try {
        summary = await fetchSummary!(timeoutMs)
      } catch (err) {
        metrics.rpcErrors.inc({ method: 'summary' })
        app.log.debug({ err }, 'xmrig API failed')
      }
      samples = collectXmrigSamples(summary)
    }
    metrics.apply(samples)
    metrics.scrapeDuration.set((performance.now() - started) / 1000)
  }

  // Single flight: overlapping scrapes (e.g. two Prometheus replicas) share one round of calls.
  let inFlight: Promise<void> | undefined
  const scrape = (): Promise<void> => {
    inFlight ??= scrapeOnce().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  app.get('/metrics', async (request, reply) => {
    await scrape()
    const format = negotiateMetricsFormat(request.headers.accept)
    const body = await metrics.render(format)
    return reply.header('content-type', format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT).send(body)
  })

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    try {
      if (target.kind === 'monerod') {
        const info = await target.client.getInfo({ timeoutMs })
        if (info.synchronized) return { ready: true, height: info.height }
        return reply.code(503).send({ ready: false, reason: 'monerod is not synchronized', height: info.height, target_height: info.target_height })
      }
      const summary = await fetchSummary!(timeoutMs)
      if (typeof summary.connection.ip === 'string' && summary.connection.ip !== '') {
        return { ready: true, pool: summary.connection.pool }
      }
      return reply.code(503).send({ ready: false, reason: 'xmrig is not connected to a pool', pool: summary.connection.pool })
    } catch (err) {
      return reply.code(503).send({ ready: false, reason: err instanceof Error ? err.message : String(err) })
    }
  })

  return app
}
