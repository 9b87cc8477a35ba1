// MoneroMiningNodeSet spec.maxUnavailable (hooks/monerominingnodeset/max-unavailable.ts) under
// Metacontroller's update rule, offline: sent on create and while the StatefulSet stores it;
// once an apiserver without the MaxUnavailableStatefulSet gate dropped it, not sent any more
// (one annotation-only update, then stable), marked on the StatefulSet, and reported by the
// MaxUnavailableIgnored condition. Here (not under hooks/) because it uses e2e/metacontroller,
// which the image build does not compile. The real-apiserver side is
// e2e/apiserver/no-op-updates.test.ts (gate off and on).
import t from 'tap'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { applyDesired, defaultNamespace, forCreate } from './apply.js'
import {
  MAX_UNAVAILABLE_CONDITION,
  MAX_UNAVAILABLE_IGNORED_ANNOTATION,
  MAX_UNAVAILABLE_REQUESTED_ANNOTATION,
  planMaxUnavailable,
} from '../../hooks/monerominingnodeset/max-unavailable.js'
import { parentWith, statefulSetOf, syncOk } from '../../hooks/monerominingnodeset/testing.js'

type Json = Record<string, any>

const spec = { replicas: 4, maxUnavailable: '25%', xmrig: { args: ['-o', 'p:1', '-u', 'w'] } }
const parent = parentWith(spec)
const observedGroup = (sts: Json) => ({ 'StatefulSet.apps/v1': { [`default/${sts.metadata.name}`]: sts as KubeObject } })
const condition = (status: Json) => (status.conditions as Json[]).find((c) => c.type === MAX_UNAVAILABLE_CONDITION)

/** The StatefulSet as created by Metacontroller and stored by an apiserver with or without the gate. */
function stored(gateOn: boolean): Json {
  const created = forCreate(statefulSetOf(syncOk(parent)), parent as never) as Json
  created.metadata.uid = 'u'
  created.metadata.resourceVersion = '1'
  created.metadata.generation = 1
  if (!gateOn) delete created.spec.updateStrategy.rollingUpdate.maxUnavailable
  return created
}

t.test('create: sent, with the requested marker; condition Unknown', async (t) => {
  const r = syncOk(parent)
  const sts = statefulSetOf(r) as Json
  t.equal(sts.spec.updateStrategy.rollingUpdate.maxUnavailable, '25%')
  t.equal(sts.metadata.annotations[MAX_UNAVAILABLE_REQUESTED_ANNOTATION], '25%')
  t.match(condition(r.status), { status: 'Unknown', reason: 'Pending' })
})

t.test('gate on: the stored field is sent again, nothing to update; condition False', async (t) => {
  const live = stored(true)
  const r = syncOk(parent, observedGroup(live))
  const sts = statefulSetOf(r) as Json
  t.equal(sts.spec.updateStrategy.rollingUpdate.maxUnavailable, '25%')
  t.equal(applyDesired(live, defaultNamespace(sts, 'default')).changed, false)
  t.match(condition(r.status), { status: 'False', reason: 'Applied' })
})

t.test('gate off: dropped, so not sent any more: one annotation-only update, then stable; condition True', async (t) => {
  const live = stored(false)
  const r = syncOk(parent, observedGroup(live))
  const sts = statefulSetOf(r) as Json
  t.notOk('maxUnavailable' in sts.spec.updateStrategy.rollingUpdate, 'not sent')
  t.same(sts.metadata.annotations, { [MAX_UNAVAILABLE_IGNORED_ANNOTATION]: '25%' })
  const c = condition(r.status)
  t.match(c, { status: 'True', reason: 'FeatureGateDisabled' })
  t.match(c?.message, /MaxUnavailableStatefulSet/)
  const first = applyDesired(live, defaultNamespace(sts, 'default'))
  t.equal(first.changed, true, 'one update (the annotations)')
  t.same(first.merged.spec, live.spec, 'the update changes no spec: no rollout')
  // After that update, the next sync is stable.
  const r2 = syncOk(parent, observedGroup(first.merged))
  t.equal(applyDesired(first.merged, defaultNamespace(statefulSetOf(r2), 'default')).changed, false)
  t.match(condition(r2.status), { status: 'True', reason: 'FeatureGateDisabled' })
  // The PodDisruptionBudget still uses it.
  t.equal((r2.children.find((c) => c.kind === 'PodDisruptionBudget') as Json).spec.maxUnavailable, '25%')
})

t.test('a changed value is tried again; removing it removes field, markers and condition', async (t) => {
  const live = stored(false)
  live.metadata.annotations = { ...live.metadata.annotations, [MAX_UNAVAILABLE_IGNORED_ANNOTATION]: '25%' }
  delete live.metadata.annotations[MAX_UNAVAILABLE_REQUESTED_ANNOTATION]
  t.same(planMaxUnavailable('25%', live as KubeObject), { state: 'ignored', value: '25%' })
  t.same(planMaxUnavailable('50%', live as KubeObject), { state: 'sent', value: '50%', stored: false })
  t.same(planMaxUnavailable(2, live as KubeObject), { state: 'sent', value: 2, stored: false })
  const r = syncOk(parentWith({ ...spec, maxUnavailable: undefined }), observedGroup(live))
  const sts = statefulSetOf(r) as Json
  t.notOk(sts.metadata.annotations, 'no marker annotations')
  t.notOk('maxUnavailable' in sts.spec.updateStrategy.rollingUpdate)
  t.equal(condition(r.status), undefined, 'no condition')
})

t.test('a StatefulSet that never got this value (field added later, older operator): tried', async (t) => {
  const live = stored(false)
  delete live.metadata.annotations[MAX_UNAVAILABLE_REQUESTED_ANNOTATION]
  t.same(planMaxUnavailable('25%', live as KubeObject), { state: 'sent', value: '25%', stored: false })
  t.same(planMaxUnavailable(undefined, live as KubeObject), { state: 'unset' })
  t.same(planMaxUnavailable('25%', undefined), { state: 'sent', value: '25%', stored: false })
})
