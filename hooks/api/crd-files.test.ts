import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { parse, parseAllDocuments } from 'yaml'
import { renderCrdFiles } from './render-crds.js'
import { loadCrds, loadValidators } from '../schema.js'
import { repoPath } from '../paths.js'

t.test('crds/ is what hooks/api/crds.ts generates (run `npm run gen:crds`)', async (t) => {
  const expected = renderCrdFiles()
  const onDisk = readdirSync(repoPath('crds')).sort()
  t.same(onDisk, Object.keys(expected).sort(), 'same files')
  for (const [file, text] of Object.entries(expected)) {
    t.equal(readFileSync(repoPath('crds', file), 'utf8'), text, `crds/${file} is up to date`)
  }
})

/** Walks a schema; calls visit(node, path) on each node. */
function walk(node: unknown, path: string, visit: (n: Record<string, unknown>, p: string) => void): void {
  if (typeof node !== 'object' || node === null) return
  const n = node as Record<string, unknown>
  visit(n, path)
  for (const [k, v] of Object.entries((n.properties as Record<string, unknown>) ?? {})) walk(v, `${path}.${k}`, visit)
  if (n.items) walk(n.items, `${path}[]`, visit)
  if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}{}`, visit)
}

t.test('every CRD: status+scale subresources, printer columns, category, descriptions everywhere', async (t) => {
  for (const crd of loadCrds()) {
    const spec = crd.spec as Record<string, any>
    const name = `${spec.names.kind}`
    t.same(spec.names.categories, ['monero'], `${name} category`)
    t.ok(spec.names.shortNames.length > 0, `${name} shortNames`)
    const version = spec.versions[0]
    t.same(version.subresources.status, {}, `${name} status subresource`)
    t.same(version.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' })
    const columns = version.additionalPrinterColumns.map((c: { name: string }) => c.name)
    for (const c of ['Desired', 'Ready', 'Synced', 'Reason', 'Age']) t.ok(columns.includes(c), `${name} printer column ${c}`)
    const synced = version.additionalPrinterColumns.filter((c: { jsonPath: string }) => c.jsonPath.includes('@.type=="Synced"'))
    t.same(
      synced.map((c: { name: string; priority?: number }) => [c.name, c.priority ?? 0]),
      [
        ['Synced', 0],
        ['Reason', 0],
        ['Message', 1],
      ],
      `${name}: the Synced condition in kubectl get (message with -o wide)`,
    )
    const root = version.schema.openAPIV3Schema
    const undocumented: string[] = []
    walk(root.properties.spec, 'spec', (n, p) => {
      if (!n.description && !p.endsWith('{}') && !p.endsWith('[]')) undocumented.push(p)
    })
    walk(root.properties.status, 'status', (n, p) => {
      if (!n.description && !p.endsWith('{}') && !p.endsWith('[]')) undocumented.push(p)
    })
    t.same(undocumented, [], `${name}: every field has a description (kubectl explain)`)
    t.ok(root.properties.status.properties.observedGeneration, `${name}: status.observedGeneration declared (Metacontroller writes it)`)
  }
})

t.test('every example is accepted by its CRD schema as written', async (t) => {
  const validators = loadValidators()
  const files = readdirSync(repoPath('examples')).filter((f) => f.endsWith('.yaml'))
  t.ok(files.length >= 3)
  for (const file of files) {
    const doc = parse(readFileSync(repoPath('examples', file), 'utf8')) as { apiVersion: string; kind: string; spec: unknown }
    if (!doc.apiVersion.startsWith('utxo.com.br/')) continue
    const v = validators.get(doc.kind)
    if (!v) {
      t.fail(`${file}: no CRD for kind ${doc.kind}`)
      continue
    }
    t.same(v.validateSpec(structuredClone(doc.spec)), [], `${file} is valid`)
  }
})

t.test('the CEL rule on reserved flags knows every spelling monerod accepts', async (t) => {
  const { acceptedSpellings, RESERVED_MONEROD_FLAGS } = await import('../node-spec/schema.js')
  const { RESERVED } = await import('../nodes/monerod-container.js')
  t.same(
    RESERVED_MONEROD_FLAGS,
    RESERVED.map((r) => r.name),
    'one list of reserved flags for the hook and the CRD',
  )
  t.same(acceptedSpellings('data-dir'), ['da', 'dat', 'data', 'data-', 'data-d', 'data-di', 'data-dir'])
  t.ok(acceptedSpellings('rpc-bind-ip').includes('rpc-bind-ip'), 'an exact name that is also a prefix of another stays')
  t.notOk(acceptedSpellings('rpc-bind-ip').includes('rpc-bind-i'), 'an ambiguous prefix is not claimed')
})

t.test('`kubectl apply -f crds/` reads only Kubernetes objects (CRDs)', async (t) => {
  // kubectl reads the files of a folder ending in .json, .yaml or .yml; each must be an object
  // the apiserver knows, not a kustomize config (which made the command exit 1).
  const read = readdirSync(repoPath('crds')).filter((f) => /\.(json|ya?ml)$/.test(f))
  t.ok(read.length >= 3, 'the CRDs are there')
  for (const file of read) {
    const docs = parseAllDocuments(readFileSync(repoPath('crds', file), 'utf8')).map((d) => d.toJS() as { apiVersion?: unknown; kind?: unknown } | null)
    t.ok(docs.length > 0, `${file}: has a document`)
    for (const doc of docs) {
      t.match(doc, { apiVersion: String, kind: String }, `${file}: apiVersion and kind`)
      t.equal(doc?.apiVersion, 'apiextensions.k8s.io/v1', `${file}: a CRD (${String(doc?.apiVersion)} ${String(doc?.kind)})`)
      t.equal(doc?.kind, 'CustomResourceDefinition', `${file}: kind CustomResourceDefinition`)
    }
  }
})
