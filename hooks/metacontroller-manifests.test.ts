import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { HANDLERS } from './handlers.js'
import { repoPath } from './paths.js'
import { renderResource, parseResources } from './render.js'
import { DEFAULT_CONFIG } from './config.js'
import { loadCrds } from './schema.js'

const controllers = readdirSync(repoPath('metacontroller'))
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .map((f) => ({ file: f, doc: parse(readFileSync(repoPath('metacontroller', f), 'utf8')) as Record<string, any> }))

t.test('one CompositeController per kind, wired as Metacontroller needs', async (t) => {
  const crdPlurals = loadCrds()
    .map((c) => (c.spec as any).names.plural as string)
    .sort()
  t.same(controllers.map((c) => c.doc.spec.parentResource.resource).sort(), crdPlurals)
  const kustomization = parse(readFileSync(repoPath('metacontroller', 'kustomization.yaml'), 'utf8')) as { resources: string[] }
  t.same([...kustomization.resources].sort(), controllers.map((c) => c.file).sort(), 'kustomization lists every controller')
  for (const { file, doc } of controllers) {
    const handler = HANDLERS.find((h) => h.plural === doc.spec.parentResource.resource)
    t.ok(handler, `${file}: a hook serves ${doc.spec.parentResource.resource}`)
    if (!handler) continue
    t.equal(doc.spec.parentResource.apiVersion, 'utxo.com.br/v1alpha1')
    t.equal(doc.spec.generateSelector, true, `${file}: generateSelector (the examples have no spec.selector)`)
    t.equal(doc.spec.hooks.sync.version, 'v2')
    t.equal(doc.spec.hooks.sync.webhook.path, `/hooks/${handler.route}/sync`)
    if (handler.customize) {
      t.equal(doc.spec.hooks.customize?.version, 'v2', `${file}: customize hook (related key Secrets)`)
      t.equal(doc.spec.hooks.customize?.webhook?.path, `/hooks/${handler.route}/customize`)
    } else {
      t.notOk(doc.spec.hooks.customize, `${file}: no customize hook is served for ${handler.kind}`)
    }
    for (const child of doc.spec.childResources) t.equal(child.updateStrategy?.method, 'InPlace', `${file}: ${child.resource} InPlace`)
    t.same(
      doc.spec.childResources.map((c: { apiVersion: string; resource: string }) => `${c.apiVersion}/${c.resource}`).sort(),
      handler.childResources.map((c) => `${c.apiVersion}/${c.resource}`).sort(),
      `${file}: child resources equal what the hook declares`,
    )
  }
})

t.test('every kind a hook emits for the examples is declared in its controller', async (t) => {
  const ctx = { config: { ...DEFAULT_CONFIG, keySeed: Buffer.alloc(32, 7) }, now: '2026-11-26T00:00:00Z' }
  for (const file of readdirSync(repoPath('examples')).filter((f) => f.endsWith('.yaml'))) {
    for (const resource of parseResources(readFileSync(repoPath('examples', file), 'utf8'), file)) {
      const handler = HANDLERS.find((h) => h.kind === resource.kind)
      if (!handler) continue
      const declared = new Set(handler.childResources.map((c) => `${c.apiVersion}/${c.kind}`))
      // optional children (PodMonitor) are never emitted for the examples: they do not ask
      for (const child of renderResource(resource, ctx, file).children) {
        t.ok(declared.has(`${child.apiVersion}/${child.kind}`), `${file}: ${child.apiVersion}/${child.kind} declared`)
      }
    }
  }
})

t.test('the podmonitors variant adds exactly the optional child resources', async (t) => {
  const { execFileSync } = await import('node:child_process')
  let text: string
  try {
    text = execFileSync('kubectl', ['kustomize', repoPath('charts', 'kustomize', 'podmonitors')], { encoding: 'utf8' })
  } catch (err) {
    if (process.env.CI) throw err
    t.comment(`skipped: kubectl kustomize unavailable: ${String(err)}`)
    return
  }
  const docs = text
    .split(/^---$/m)
    .map((d) => parse(d) as Record<string, any>)
    .filter(Boolean)
  for (const handler of HANDLERS) {
    const doc = docs.find((d) => d.spec?.parentResource?.resource === handler.plural)
    t.ok(doc, `${handler.kind} controller rendered`)
    const resources = doc!.spec.childResources.map((c: { apiVersion: string; resource: string }) => `${c.apiVersion}/${c.resource}`).sort()
    const expected = [...handler.childResources, ...(handler.optionalChildResources ?? [])].map((c) => `${c.apiVersion}/${c.resource}`).sort()
    t.same(resources, expected, `${handler.kind}: base + optional child resources`)
  }
})
