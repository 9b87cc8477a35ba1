// Scenario (b): the proposal's MoneroNodeSet (examples/moneronodeset.yaml) with the monerod
// image overridden and small requests. On one node, hardAntiAffinity lets one pod run and
// leaves the others Pending with the scheduler's reason, on the pods and on the resource
// (PodsScheduled=False); turned off, the StatefulSet rolls out by itself and 3 pods become Ready,
// their claims are Bound, monerod writes /data as its non-root user and the exporter serves
// monerod_up 1.
import t from 'tap'
import { exampleObjects } from '../apiserver/kube.js'
import { SMALL, STORAGE_SIZE, pathFor, phase, podHttp, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any>

const env = scenarioEnv(t, ['monerodImage'])
if (env) {
  t.test('the proposal MoneroNodeSet on a real node', async (t) => {
    const s = await setupScenario(t, env, 'nodeset')
    const example = exampleObjects().find((e) => e.file === 'moneronodeset.yaml')!.object as Json
    const nodeSet = structuredClone(example)
    nodeSet.spec.monerod.image = env.monerodImage
    nodeSet.spec.monerod.imagePullPolicy = env.pullPolicy
    nodeSet.spec.monerod.resources = SMALL
    nodeSet.spec.storage = { size: STORAGE_SIZE }
    nodeSet.spec.terminationGracePeriodSeconds = 30
    t.equal(nodeSet.spec.hardAntiAffinity, true, 'the proposal asks for hard anti-affinity')
    const name = nodeSet.metadata.name as string
    const sts = `${name}-monerod`
    const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/part-of=moneronodeset`
    const nodes = (await s.get('/api/v1/nodes')).items as Json[]
    t.comment(`${nodes.length} node(s)`)

    await phase('hardAntiAffinity on: one pod runs, the others wait', async () => {
      await s.create(nodeSet)
      // Running is enough here: a mainnet monerod in a cluster without internet spends about
      // 150 s in DNS checkpoint lookups before its RPC (and so readiness) is up.
      const running = (x: Json) => x.status.phase === 'Running'
      const pods = await s.waitFor(
        'one running pod and two unschedulable ones',
        async () => {
          const p = await s.pods(selector)
          const ready = p.filter(running)
          const waiting = p.filter((x) =>
            (x.status.conditions as Json[] | undefined)?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'),
          )
          return p.length === 3 && ready.length === Math.min(nodes.length, 3) && waiting.length === 3 - ready.length && p
        },
        300,
      )
      for (const p of pods.filter((x) => !running(x))) {
        const cond = (p.status.conditions as Json[]).find((c) => c.type === 'PodScheduled')!
        t.equal(p.status.phase, 'Pending', `${p.metadata.name} Pending`)
        t.match(cond.message, /anti-affinity/, `${p.metadata.name}: the scheduler says why: ${cond.message}`)
      }
      // The same reason on the resource: the customize hook gives the hook the set's Pods, and
      // status carries PodsScheduled=False with the scheduler's message. The driver sees a
      // related object's change at the next resync (60 s).
      const unschedulable = 3 - Math.min(nodes.length, 3)
      const want = unschedulable > 0 ? 'False' : 'True'
      const parent = await s.waitFor(
        `PodsScheduled=${want} on the MoneroNodeSet`,
        async () => {
          const p = await s.get(pathFor('MoneroNodeSet', s.namespace, name))
          const c = (p.status?.conditions as Json[] | undefined)?.find((x) => x.type === 'PodsScheduled')
          return c?.status === want && p
        },
        150,
      )
      const scheduled = (parent.status.conditions as Json[]).find((c) => c.type === 'PodsScheduled')!
      t.comment(`status: ready ${parent.status?.readyReplicas}/${parent.status?.replicas}; PodsScheduled: ${scheduled.message}`)
      if (unschedulable > 0) {
        t.equal(scheduled.reason, 'Unschedulable', 'PodsScheduled reason Unschedulable')
        t.match(
          scheduled.message,
          new RegExp(`^${unschedulable} of 3 node pods cannot be scheduled: .*anti-affinity`),
          "the scheduler's reason is on the MoneroNodeSet",
        )
        for (const p of pods.filter((x) => !running(x))) t.match(scheduled.message, p.metadata.name, `names ${p.metadata.name}`)
      }
      t.equal(parent.status?.replicas, 3, 'status.replicas: 3 pods exist')
    })

    await phase('hardAntiAffinity off: 3 pods Ready', async () => {
      await s.patch('MoneroNodeSet', name, { spec: { hardAntiAffinity: false } })
      const allReady = async () => {
        const set = await s.get(pathFor('StatefulSet', s.namespace, sts))
        const p = await s.pods(selector)
        return (
          set.status?.updateRevision &&
          p.length === 3 &&
          p.every((x) => podReady(x) && x.metadata.labels['controller-revision-hash'] === set.status.updateRevision) &&
          p
        )
      }
      // The pods of the new revision carry no anti-affinity label, so the old pod's required
      // term does not keep them off its node: the StatefulSet rolls out by itself, one pod at a
      // time, each mainnet monerod spending about 150 s on DNS lookups that cannot leave an
      // offline cluster before its RPC answers (libunbound resolves on its own).
      const pods = await s.waitFor('3 Ready pods of the new revision, rolled out by the StatefulSet controller alone', allReady, 900)
      t.equal(pods.length, 3, '3 pods')
      const ready = await s.waitFor(
        'the resource reports 3 ready and every pod scheduled',
        async () => {
          const p = await s.get(pathFor('MoneroNodeSet', s.namespace, name))
          const c = (p.status?.conditions as Json[] | undefined)?.find((x) => x.type === 'PodsScheduled')
          return p.status?.readyReplicas === 3 && c?.status === 'True' && p
        },
        150,
      )
      t.equal(ready.status.readyReplicas, 3, 'status.readyReplicas 3')
      const claims = ((await s.get(pathFor('PersistentVolumeClaim', s.namespace))).items as Json[]).filter((c) => c.metadata.name.startsWith(`data-${sts}-`))
      t.equal(claims.length, 3, '3 chain-data claims')
      for (const c of claims) t.equal(c.status.phase, 'Bound', `${c.metadata.name} Bound`)

      for (const pod of pods) {
        const pn = pod.metadata.name as string
        const uid = s.exec(pn, 'monerod', ['id', '-u']).trim()
        t.not(uid, '0', `${pn}: monerod runs as a non-root user (uid ${uid})`)
        const owner = s.exec(pn, 'monerod', ['stat', '-c', '%u', '/data/lmdb/data.mdb']).trim()
        t.equal(owner, uid, `${pn}: monerod wrote /data/lmdb/data.mdb as uid ${uid}`)
        const metrics = await s.waitFor(
          `${pn}: exporter serves monerod_up 1`,
          async () => {
            const text = await podHttp(s, pn, 9533, '/metrics')
            return /^monerod_up 1$/m.test(text) && text
          },
          60,
        )
        t.match(metrics, /^monerod_up 1$/m, `${pn}: exporter reports monerod_up 1`)
      }
    })
    if (s.driver)
      t.comment(`driver: ${s.driver.stats.creates.length} creates, ${s.driver.updateCount()} updates, ${s.driver.stats.errors.size} parents with errors`)
  })
}
