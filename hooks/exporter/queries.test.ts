// Every metric name used by the Grafana dashboards and the alert rules in the chart must be a
// series the exporter really produces: a dashboard or alert on a misspelt metric is silently
// empty. Also checks the structure the chart and the on-call rely on (severity, runbook,
// summary; $namespace/$job variables).
import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Metric } from 'prom-client'
import { parse as parseYaml } from 'yaml'

import { repoPath } from '../paths.js'
import { buildExporterMetrics } from './server.js'

const FILES = repoPath('charts', 'monero-operator', 'files')

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/** Metric names referenced by a PromQL expression (Grafana variables allowed). */
function metricNamesIn(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals (label values, regexes)
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range / subquery selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
  // label_values(metric, label): the label is not a metric
  s = s.replace(/\blabel_values\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)/g, ' $1 ')
  const names = new Set<string>()
  for (const m of s.matchAll(/(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const name = m[1] ?? ''
    if (KEYWORDS.has(name.toLowerCase())) continue
    names.add(name)
  }
  return [...names]
}

/** All series names the exporter exposes in either mode, suffixes included. */
async function exportedSeriesNames(): Promise<Set<string>> {
  const out = new Set<string>()
  for (const kind of ['monerod', 'xmrig'] as const) {
    const metrics = buildExporterMetrics(kind, true)
    // getMetricsAsArray() returns the metric instances (typed as plain objects).
    for (const m of metrics.registry.getMetricsAsArray() as unknown as (Metric & { name: string })[]) {
      const { type } = await m.get()
      const base = m.name.replace(/_total$/, '')
      switch (String(type)) {
        case 'counter':
          out.add(`${base}_total`)
          break
        case 'histogram':
          for (const suffix of ['_bucket', '_sum', '_count']) out.add(`${m.name}${suffix}`)
          break
        case 'summary':
          out.add(m.name)
          for (const suffix of ['_sum', '_count']) out.add(`${m.name}${suffix}`)
          break
        default:
          out.add(m.name)
      }
    }
    metrics.registry.clear()
  }
  return out
}

interface Expr {
  where: string
  expr: string
}

interface GrafanaPanel {
  title?: string
  targets?: { expr?: string }[]
  panels?: GrafanaPanel[]
}

interface GrafanaDashboard {
  uid: string
  panels: GrafanaPanel[]
  templating: { list: { name: string; query?: string | { query?: string }; definition?: string }[] }
}

async function dashboards(): Promise<{ file: string; json: GrafanaDashboard }[]> {
  const dir = join(FILES, 'dashboards')
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
  return Promise.all(files.map(async (file) => ({ file, json: JSON.parse(await readFile(join(dir, file), 'utf8')) as GrafanaDashboard })))
}

interface Rule {
  alert?: string
  record?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

async function rules(): Promise<Rule[]> {
  const doc = parseYaml(await readFile(join(FILES, 'alerts', 'monero.rules.yaml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
  return doc.groups.flatMap((g) => g.rules)
}

t.test('metricNamesIn extracts names, not functions, labels or variables', async (t) => {
  t.same(metricNamesIn('max by (namespace, app_kubernetes_io_instance) (monerod_height{job=~"$job"}) - on (namespace) group_right monerod_height'), [
    'monerod_height',
  ])
  t.same(metricNamesIn('sum(rate(x_total{a="b c"}[$__rate_interval])) * 60 > 0 and on (pod) y == 0'), ['x_total', 'y'])
  t.same(metricNamesIn('predict_linear(f[6h], 24 * 3600) < 0 or time() - t_seconds'), ['f', 't_seconds'])
  t.same(metricNamesIn('label_values(monerod_up{namespace=~"$namespace"}, job)'), ['monerod_up'])
})

t.test('dashboards and alerts use only series the exporter produces', async (t) => {
  const exported = await exportedSeriesNames()
  t.ok(exported.has('monerod_height') && exported.has('xmrig_shares_good_total') && exported.has('monero_exporter_rpc_errors_total'))

  const exprs: Expr[] = []
  const walk = (file: string, panels: GrafanaPanel[]): void => {
    for (const p of panels) {
      for (const target of p.targets ?? []) if (target.expr !== undefined) exprs.push({ where: `${file}: ${p.title ?? '?'}`, expr: target.expr })
      walk(file, p.panels ?? [])
    }
  }
  for (const { file, json } of await dashboards()) {
    walk(file, json.panels)
    for (const v of json.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query?.query
      if (v.name !== 'datasource' && q !== undefined) exprs.push({ where: `${file}: variable $${v.name}`, expr: q })
    }
  }
  for (const r of await rules()) exprs.push({ where: `alert ${r.alert ?? r.record ?? '?'}`, expr: r.expr })
  t.ok(exprs.length > 30, `${exprs.length} expressions checked`)

  const used = new Set<string>()
  for (const { where, expr } of exprs) {
    const names = metricNamesIn(expr)
    t.ok(names.length > 0, `${where} references a metric`)
    for (const name of names) {
      used.add(name)
      t.ok(exported.has(name), `${where}: ${name} is exported`)
    }
  }
  t.comment(`metrics used: ${[...used].sort().join(' ')}`)
})

t.test('alert rules carry severity, summary and a one-line runbook', async (t) => {
  const all = await rules()
  const names = all.map((r) => r.alert)
  for (const required of ['MonerodDown', 'MonerodNotSynchronized', 'MonerodNoPeers', 'MonerodHeightBehind', 'MonerodDiskAlmostFull', 'XmrigHashrateZero']) {
    t.ok(names.includes(required), `${required} defined`)
  }
  for (const r of all) {
    t.ok(r.alert, 'every rule is an alert')
    t.match(r.labels?.severity, /^(critical|warning|info)$/, `${r.alert} severity`)
    t.ok(r.annotations?.summary, `${r.alert} summary`)
    t.match(r.annotations?.runbook, /^[^\n]+$/, `${r.alert} one-line runbook`)
    t.match(r.for, /^\d+[smh]$/, `${r.alert} has a for: duration`)
  }
  t.match(
    all.find((r) => r.alert === 'MonerodNotSynchronized'),
    { for: '30m' },
  )
})

t.test('dashboards have the $namespace and $job variables and unique panel ids', async (t) => {
  const files = await dashboards()
  t.same(
    files.map((f) => f.file),
    ['monero-miners.json', 'monero-nodes.json'],
  )
  for (const { file, json } of files) {
    const vars = json.templating.list.map((v) => v.name)
    t.ok(vars.includes('namespace') && vars.includes('job'), `${file} variables: ${vars.join(', ')}`)
    const ids = json.panels.map((p) => (p as { id?: number }).id)
    t.equal(new Set(ids).size, ids.length, `${file} panel ids unique`)
    for (const p of json.panels) {
      for (const target of p.targets ?? []) {
        t.match(target.expr, /namespace=~"\$namespace"/, `${file}: ${p.title} filters on $namespace`)
      }
    }
  }
})
