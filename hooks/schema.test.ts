import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { validatorModuleSource } from './api/validator-source.js'
import { loadValidators, schemaDigest, specSchemas, VALIDATORS_MODULE } from './schema.js'

t.test('the built validators are what the in-memory schemas generate now', async (t) => {
  t.equal(readFileSync(VALIDATORS_MODULE, 'utf8'), validatorModuleSource(), 'dist/hooks/validators.cjs is current (npm run build regenerates it)')
  t.same([...loadValidators().keys()].sort(), ['MoneroMiningNodeSet', 'MoneroNetwork', 'MoneroNodeSet'], 'one validator per kind')
})

t.test('a generated module that does not match the schemas is refused, naming the fix', async (t) => {
  // Beside the real module, where the generated code finds ajv's runtime helpers.
  const file = (name: string) => join(dirname(VALIDATORS_MODULE), `validators-test-${process.pid}-${name}.cjs`)
  t.teardown(() => {
    for (const name of ['stale', 'partial']) rmSync(file(name), { force: true })
  })
  const good = readFileSync(VALIDATORS_MODULE, 'utf8')
  const digest = schemaDigest(specSchemas())
  t.ok(good.includes(digest), 'the module carries the digest of the current schemas')

  const stale = file('stale')
  writeFileSync(stale, good.replace(digest, '0'.repeat(64)))
  t.throws(() => loadValidators(stale), /generated from other CRD schemas.*npm run build/, 'stale digest')

  const partial = file('partial')
  writeFileSync(partial, good.replace('exports.MoneroNetwork = ', 'exports.SomethingElse = '))
  t.throws(() => loadValidators(partial), /no validator for MoneroNetwork/, 'a kind missing')

  t.throws(() => loadValidators(file('absent')), /is missing: .*npm run build/, 'no module')
})

t.test('the generated validators apply defaults and report fields as the hook shows them', async (t) => {
  const nodeSet = loadValidators().get('MoneroNodeSet')
  if (!nodeSet) throw new Error('no MoneroNodeSet validator')
  const spec: Record<string, unknown> = {}
  t.same(nodeSet.validateSpec(spec), [], 'an empty spec is valid')
  t.equal(spec.replicas, 1, 'defaults applied in place')
  t.same(
    nodeSet.validateSpec({ replicas: 2 ** 31 }).filter((e) => e.message.includes('int32')),
    [{ field: 'spec.replicas', message: 'must match format "int32"' }],
    'the int32 format is enforced',
  )
  t.match(nodeSet.validateSpec({ replicas: 1.5 }), [{ field: 'spec.replicas', message: 'must be integer' }], 'an integer field refuses a fraction')
  t.same(
    nodeSet.validateSpec({ replicaz: 1 }),
    [{ field: 'spec.replicaz', message: 'is not a known field (check the spelling; see `kubectl explain`)' }],
    'unknown field',
  )
})
