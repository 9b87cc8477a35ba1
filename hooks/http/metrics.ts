/**
 * Prometheus metrics of the hook routes: requests, errors and duration by hook and outcome,
 * counted in one place (onResponse) from the answer's status, plus process metrics. Routes
 * opt in with `config: { hook: '<kind>/<sync|customize>' }`.
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface MetricsOptions {
  /** Collect process metrics (off in tests that build many servers). */
  readonly processMetrics?: boolean
}

/** The route config of a hook route. */
export interface HookRouteConfig {
  readonly hook?: string
}

/** What an answer's status says about the request. */
export function outcomeOf(statusCode: number): 'ok' | 'unauthorized' | 'invalid' | 'error' {
  if (statusCode < 400) return 'ok'
  if (statusCode === 401) return 'unauthorized'
  return statusCode < 500 ? 'invalid' : 'error'
}

export const metricsPlugin = fp<MetricsOptions>(
  async (app, opts) => {
    const registry = new Registry()
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry })
    const requests = new Counter({
      name: 'monero_operator_hook_requests_total',
      help: 'Hook requests by hook and outcome (ok, invalid, unauthorized, error).',
      labelNames: ['hook', 'outcome'] as const,
      registers: [registry],
    })
    const errors = new Counter({
      name: 'monero_operator_hook_errors_total',
      help: 'Hook requests that failed, by hook and HTTP status code.',
      labelNames: ['hook', 'code'] as const,
      registers: [registry],
    })
    const duration = new Histogram({
      name: 'monero_operator_hook_duration_seconds',
      help: 'Time to answer a hook request, by hook and outcome.',
      labelNames: ['hook', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    })
    const count = (request: FastifyRequest, reply: FastifyReply) => {
      const hook = (request.routeOptions.config as HookRouteConfig).hook
      if (hook === undefined) return
      const outcome = outcomeOf(reply.statusCode)
      requests.inc({ hook, outcome })
      if (outcome !== 'ok') errors.inc({ hook, code: String(reply.statusCode) })
      duration.observe({ hook, outcome }, reply.elapsedTime / 1000)
    }
    // callback-style hooks: no promise per request on the hot path
    app.addHook('onResponse', (request, reply, done) => {
      count(request, reply)
      done()
    })
    // A client that goes away before its answer gets none: counted all the same.
    app.addHook('onRequestAbort', async (request) => {
      const hook = (request.routeOptions.config as HookRouteConfig).hook
      if (hook === undefined) return
      requests.inc({ hook, outcome: 'invalid' })
      errors.inc({ hook, code: '400' })
    })
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'monero-operator-metrics' },
)
