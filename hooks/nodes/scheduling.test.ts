import t from 'tap'
import { buildPodPlacement, HARD_ANTI_AFFINITY_LABEL } from './scheduling.js'

const selector = { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': 'nodes' }

t.test('hard anti-affinity: the pods carry the marker, and the required term selects only marked pods', async (t) => {
  const p = buildPodPlacement({}, selector, true)
  t.same(p.labels, { [HARD_ANTI_AFFINITY_LABEL]: 'required' })
  t.same(p.podSpec.affinity, {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...selector, [HARD_ANTI_AFFINITY_LABEL]: 'required' } } },
      ],
    },
  })
  t.same(Object.keys(p.podSpec), ['affinity'], 'no empty scheduling fields are sent')
})

t.test('soft anti-affinity: no marker, a preferred term on the set selector', async (t) => {
  const p = buildPodPlacement({}, selector, false)
  t.same(p.labels, {})
  t.same(p.podSpec.affinity, {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
      ],
    },
  })
})

t.test("the user's scheduling is passed through; their anti-affinity terms join ours", async (t) => {
  const zone = { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { tier: 'db' } } }
  const nodeAffinity = {
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
  }
  const p = buildPodPlacement(
    {
      nodeSelector: { pool: 'monero' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monero', effect: 'NoSchedule' }],
      priorityClassName: 'high',
      imagePullSecrets: [{ name: 'regcred' }],
      affinity: { nodeAffinity, podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [zone] } },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
        { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { own: 'x' } } },
      ],
    },
    selector,
    true,
  )
  t.same(p.podSpec.nodeSelector, { pool: 'monero' })
  t.same(p.podSpec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'monero', effect: 'NoSchedule' }])
  t.equal(p.podSpec.priorityClassName, 'high')
  t.same(p.podSpec.imagePullSecrets, [{ name: 'regcred' }])
  t.same(p.podSpec.affinity?.nodeAffinity, nodeAffinity, 'node affinity kept')
  t.same(p.podSpec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[1], zone, "the user's required term after ours")
  t.same(
    p.podSpec.topologySpreadConstraints?.map((c) => c.labelSelector),
    [{ matchLabels: selector }, { matchLabels: { own: 'x' } }],
    'a constraint without a selector spreads the set itself; a given selector is kept',
  )
  t.same(
    buildPodPlacement({ nodeSelector: {}, tolerations: [], imagePullSecrets: [], topologySpreadConstraints: [] }, selector, false).podSpec,
    {
      affinity: buildPodPlacement({}, selector, false).podSpec.affinity,
    },
    'empty maps and lists are left out (the apiserver does not store them)',
  )
})
