import t from 'tap'
import { Ajv } from 'ajv'
import { Kind, KindGuard, type TSchema, Type } from '@sinclair/typebox'
import { IntOrString, KubeObject, MapOf, renderSchema, StringEnum, withCel, withRules } from './structural.js'
import { loadCrds, loadValidators } from '../schema.js'
import { moneroNodeSetSpecSchema } from '../moneronodeset/crd.js'
import { moneroNetworkSpecSchema } from '../moneronetwork/crd.js'
import { miningSpecSchema } from '../monerominingnodeset/crd.js'
import type { NodeSpec } from '../node-spec/types.js'
import type { MoneroMiningNodeSetSpec } from '../monerominingnodeset/types.js'

type Json = Record<string, any>

// Checked by the compiler (tsc is part of npm test): a defaulted property is present in the
// type, an Optional one is not.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typeChecks: [
  Equal<NodeSpec['tor']['rotation'], string>,
  Equal<NodeSpec['storage']['size'], string | number>,
  Equal<NodeSpec['monerod']['imagePullPolicy'], 'Always' | 'IfNotPresent' | 'Never' | undefined>,
  Equal<NodeSpec['service']['type'], 'ClusterIP' | 'NodePort' | 'LoadBalancer'>,
  Equal<MoneroMiningNodeSetSpec['hugePages']['pages'], number | undefined>,
  Equal<NonNullable<MoneroMiningNodeSetSpec['pool']>['url'], string>,
] = [true, true, true, true, true, true]
void typeChecks

t.test('renderSchema: required lists the present properties without a default', async (t) => {
  const schema = Type.Object(
    {
      name: Type.String({ description: 'required: no default' }),
      size: Type.Integer({ description: 'defaulted', default: 1 }),
      note: Type.Optional(Type.String({ description: 'optional' })),
    },
    { description: 'd' },
  )
  t.same(renderSchema(schema), {
    type: 'object',
    description: 'd',
    required: ['name'],
    properties: {
      name: { type: 'string', description: 'required: no default' },
      size: { type: 'integer', description: 'defaulted', default: 1 },
      note: { type: 'string', description: 'optional' },
    },
  })
  const allDefaulted = renderSchema(Type.Object({ a: Type.Boolean({ default: false }) }, { default: {} }))
  t.notOk('required' in allDefaulted, 'no empty required list')
  t.same(Object.keys(allDefaulted), ['type', 'default', 'properties'], 'type first, then the options as written')
})

t.test('renderSchema refuses a property both Optional and defaulted', async (t) => {
  const schema = Type.Object({ a: Type.String(), b: Type.Optional(Type.Boolean({ default: true })) })
  t.throws(() => renderSchema(schema, 'spec'), /spec\.b: a defaulted property is always present/)
  t.throws(() => renderSchema(Type.Object({ b: Type.Optional(Type.Boolean({ default: true })) })), /\.b:/, 'also with no required property')
})

t.test('renderSchema writes plain JSON that shares nothing with the schema', async (t) => {
  const schema = Type.Object({ list: Type.Array(Type.String(), { default: ['a'] }) }, { description: 'x' })
  const out = renderSchema(schema) as Json
  const symbols = (n: unknown): symbol[] =>
    typeof n !== 'object' || n === null ? [] : [...Object.getOwnPropertySymbols(n), ...Object.values(n).flatMap(symbols)]
  t.same(symbols(out), [], 'no TypeBox symbol left')
  out.properties.list.default.push('b')
  out.properties.list.items.maxLength = 1
  t.same(schema.properties.list.default, ['a'])
  t.notOk('maxLength' in schema.properties.list.items)
})

t.test('the helpers write structural-schema forms', async (t) => {
  t.same(renderSchema(StringEnum({ description: 'd', enum: ['A', 'B'] })), { type: 'string', description: 'd', enum: ['A', 'B'] })
  t.same(renderSchema(MapOf(Type.String(), { description: 'd' })), { type: 'object', description: 'd', additionalProperties: { type: 'string' } })
  t.same(renderSchema(IntOrString({ description: 'd', pattern: 'p' })), {
    description: 'd',
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: 'p',
  })
  t.same(renderSchema(KubeObject('d')), { type: 'object', description: 'd', 'x-kubernetes-preserve-unknown-fields': true })
  const ruled = withRules(Type.Object({ n: Type.Integer() }), [{ field: 'n', rule: 'self.n > 0', holds: (s) => s.n > 0, message: 'n > 0' }])
  t.same(renderSchema(withCel(ruled, [{ rule: 'true', message: 'm' }]))['x-kubernetes-validations'], [{ rule: 'true', message: 'm' }])
  t.same(renderSchema(ruled)['x-kubernetes-validations'], [{ rule: 'self.n > 0', message: 'n > 0' }])
})

/** Every object node of a TypeBox schema present in `data`: its non-Optional properties must be there. */
function missingAfterDefaulting(schema: TSchema, data: unknown, path: string): string[] {
  if (schema[Kind] !== 'Object' || typeof data !== 'object' || data === null) return []
  const out: string[] = []
  for (const [key, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const value = (data as Json)[key]
    if (value === undefined) {
      if (!KindGuard.IsOptional(property)) out.push(`${path}.${key}`)
      continue
    }
    out.push(...missingAfterDefaulting(property, value, `${path}.${key}`))
  }
  return out
}

t.test('after the hook applies the defaults, every property the type says is present is there', async (t) => {
  const validators = loadValidators()
  const cases: [string, TSchema, Json][] = [
    ['MoneroNodeSet', moneroNodeSetSpecSchema, {}],
    ['MoneroNodeSet', moneroNodeSetSpecSchema, { metrics: { podMonitor: {} }, tor: { publish: {} } }],
    ['MoneroNetwork', moneroNetworkSpecSchema, { template: {} }],
    ['MoneroNetwork', moneroNetworkSpecSchema, { template: { metadata: {}, spec: { metrics: { podMonitor: {} } } } }],
    ['MoneroMiningNodeSet', miningSpecSchema, {}],
    ['MoneroMiningNodeSet', miningSpecSchema, { pool: { url: 'pool:3333', user: 'w' }, metrics: { podMonitor: {} } }],
  ]
  for (const [kind, schema, input] of cases) {
    const spec = structuredClone(input)
    t.same(validators.get(kind)?.validateSpec(spec), [], `${kind} ${JSON.stringify(input)} is valid`)
    t.same(missingAfterDefaulting(schema, spec, 'spec'), [], `${kind} ${JSON.stringify(input)}: nothing missing`)
  }
})

t.test('every default in the CRDs is valid against its own schema', async (t) => {
  // The apiserver refuses a CRD whose defaults do not validate; this finds one before it does.
  const ajv = new Ajv({ strict: false, validateFormats: false, useDefaults: true })
  let checked = 0
  const invalid: string[] = []
  const visit = (node: Json, path: string): void => {
    if ('default' in node) {
      const { default: value, ...rest } = node
      const validate = ajv.compile(rest)
      if (!validate(structuredClone(value))) invalid.push(`${path}: default ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`)
      checked++
    }
    for (const [k, v] of Object.entries((node.properties as Json) ?? {})) visit(v, `${path}.${k}`)
    if (typeof node.items === 'object') visit(node.items, `${path}[]`)
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${path}{}`)
  }
  for (const crd of loadCrds() as Json[]) visit(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, `${crd.spec.names.kind}.spec`)
  t.same(invalid, [])
  t.ok(checked > 50, `${checked} defaults checked`)
})
