import t from 'tap'
import { readFileSync } from 'node:fs'
import { parse, parseAllDocuments } from 'yaml'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { DEFAULT_EXPORTER_PORT } from '../exporter/command.js'
import { renderCrdFiles } from '../api/render-crds.js'
import { buildMoneroMiningNodeSetCrd } from './crd.js'
import { findHandler } from '../handlers.js'
import { repoPath } from '../paths.js'
import { DEFAULT_METRICS_PORT } from './defaults.js'
import { SPEC_RULES } from './validate.js'

type Json = Record<string, any>

const crd = buildMoneroMiningNodeSetCrd() as Json
const version = crd.spec.versions[0]
const specSchema = version.schema.openAPIV3Schema.properties.spec

t.test('crds/monerominingnodesets.yaml is up to date (npm run gen:crds)', async (t) => {
  t.equal(readFileSync(repoPath('crds', 'monerominingnodesets.yaml'), 'utf8'), renderCrdFiles()['monerominingnodesets.yaml'])
})

t.test('the CRD has status and a scale subresource an HPA can drive', async (t) => {
  t.equal(crd.metadata.name, 'monerominingnodesets.utxo.com.br')
  t.same(version.subresources, {
    status: {},
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  })
  const status = version.schema.openAPIV3Schema.properties.status.properties
  for (const f of ['observedGeneration', 'replicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas', 'selector', 'conditions', 'pool']) {
    t.ok(status[f], `status.${f} declared (else the apiserver prunes it)`)
  }
  t.same(specSchema.properties.replicas.maximum, 10000)
})

t.test('every CEL rule is in the CRD with the message the hook uses', async (t) => {
  t.same(
    specSchema['x-kubernetes-validations'],
    SPEC_RULES.map((r) => ({ rule: r.rule, message: r.message })),
  )
  for (const r of SPEC_RULES) t.notMatch(r.rule, /\bundefined\b/, `${r.field}: rule is complete`)
})

t.test("the metrics port default is the exporter's", async (t) => {
  t.equal(DEFAULT_METRICS_PORT, DEFAULT_EXPORTER_PORT)
  t.equal(specSchema.properties.metrics.properties.port.default, DEFAULT_EXPORTER_PORT)
})

t.test('the CompositeController matches the hook', async (t) => {
  const cc = parse(readFileSync(repoPath('metacontroller', 'monerominingnodeset.yaml'), 'utf8')) as Json
  const handler = findHandler('MoneroMiningNodeSet')!
  t.equal(cc.spec.parentResource.resource, handler.plural)
  t.equal(cc.spec.hooks.sync.webhook.path, `/hooks/${handler.route}/sync`)
  t.same(
    cc.spec.childResources.map((c: Json) => `${c.apiVersion}/${c.resource}:${c.updateStrategy.method}`),
    handler.childResources.map((c) => `${c.apiVersion}/${c.resource}:InPlace`),
  )
})

t.test('the HPA example is valid and targets the set through its scale subresource', async (t) => {
  const docs = parseAllDocuments(readFileSync(repoPath('examples', 'hpa-miners.yaml'), 'utf8')).map((d) => d.toJS() as Json)
  t.equal(docs.length, 1)
  const hpa = docs[0] as Json
  t.doesNotThrow(() => new HorizontalPodAutoscaler(hpa as never).validate())
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'utxo.com.br/v1alpha1', kind: 'MoneroMiningNodeSet', name: 'miners' })
})
