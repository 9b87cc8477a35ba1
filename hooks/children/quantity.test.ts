// canonicalQuantity: the spelling the apiserver stores (e2e/apiserver/no-op-updates.test.ts
// checks the same table against a real apiserver).
import t from 'tap'
import { canonicalQuantity, canonicalResourceList } from './quantity.js'
import { QUANTITY_CASES } from './quantity-cases.js'

t.test('known spellings', async (t) => {
  for (const [input, stored] of QUANTITY_CASES) t.equal(canonicalQuantity(input), stored, `${JSON.stringify(input)} -> ${stored}`)
})

t.test('stored spellings are fixed points', async (t) => {
  for (const [, stored] of QUANTITY_CASES) t.equal(canonicalQuantity(stored), stored, stored)
})

t.test('not a quantity', async (t) => {
  for (const bad of ['', 'abc', '1Gb', '1.2.3', '--1', '1 Gi']) t.throws(() => canonicalQuantity(bad), /not a Kubernetes quantity/, bad)
})

t.test('resource lists', async (t) => {
  t.same(canonicalResourceList({ cpu: 0.5, memory: '2048Mi' }), { cpu: '500m', memory: '2Gi' })
  t.equal(canonicalResourceList(undefined), undefined)
})
