// Scenario (d): the life of a MoneroNodeSet as a user drives it: `kubectl scale`, a patch of
// monerod's args that rolls one pod at a time and keeps the data, restarting the hook pods
// (nothing deleted), and deleting the parent (children gone, chain-data claims kept).
import t from 'tap'
import { OFFLINE_ARGS, OPERATOR_NS, RELEASE, SMALL, STORAGE_SIZE, pathFor, phase, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any>

const env = scenarioEnv(t, ['monerodImage'])
if (env) {
  t.test('scale, roll, restart the hooks, delete', async (t) => {
    const s = await setupScenario(t, env, 'lifecycle')
    const name = 'life'
    const sts = `${name}-monerod`
    const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/part-of=moneronodeset`
    await s.create({
      apiVersion: 'utxo.com.br/v1alpha1',
      kind: 'MoneroNodeSet',
      metadata: { name },
      spec: {
        replicas: 2,
        monerod: { image: env.monerodImage, imagePullPolicy: env.pullPolicy, resources: SMALL, args: OFFLINE_ARGS.concat('--out-peers=16') },
        storage: { size: STORAGE_SIZE },
        terminationGracePeriodSeconds: 30,
      },
    })
    const ready = (n: number, what: string, extra: (p: Json[]) => boolean = () => true) =>
      s.waitFor(
        what,
        async () => {
          const p = await s.pods(selector)
          return p.length === n && p.every(podReady) && extra(p) && p
        },
        300,
      )
    await phase('2 pods Ready', () => ready(2, '2 Ready pods'))

    await phase('kubectl scale to 3 and back to 2', async () => {
      const up = s.kubectl(['scale', '-n', s.namespace, `moneronodeset/${name}`, '--replicas=3'])
      t.equal(up.status, 0, `kubectl scale --replicas=3${up.status ? `: ${up.stderr}` : ''}`)
      await ready(3, '3 Ready pods')
      t.equal((await s.get(pathFor('StatefulSet', s.namespace, sts))).spec.replicas, 3, 'StatefulSet scaled to 3')
      const down = s.kubectl(['scale', '-n', s.namespace, `moneronodeset/${name}`, '--replicas=2'])
      t.equal(down.status, 0, 'kubectl scale --replicas=2')
      await ready(2, 'back to 2 Ready pods')
      const claims = ((await s.get(pathFor('PersistentVolumeClaim', s.namespace))).items as Json[]).map((c) => c.metadata.name).sort()
      t.same(claims, [`data-${sts}-0`, `data-${sts}-1`, `data-${sts}-2`], 'scaling down keeps the third claim (retention whenScaled: Retain)')
    })

    await phase('an args patch rolls one pod at a time and keeps the data', async () => {
      const pods = await s.pods(selector)
      const claimUids = new Map<string, string>()
      for (const p of pods) {
        s.exec(p.metadata.name, 'monerod', ['sh', '-c', `echo ${p.metadata.uid} > /data/scenario-marker`])
        const c = await s.get(pathFor('PersistentVolumeClaim', s.namespace, `data-${p.metadata.name}`))
        claimUids.set(p.metadata.name, c.metadata.uid)
      }
      await s.patch('MoneroNodeSet', name, { spec: { monerod: { args: OFFLINE_ARGS.concat('--out-peers=8') } } })
      let mostDown = 0
      const rolled = await s.waitFor(
        'every pod rolled to --out-peers=8 and Ready',
        async () => {
          const p = await s.pods(selector)
          mostDown = Math.max(mostDown, 2 - p.filter(podReady).length)
          return p.length === 2 && p.every((x) => podReady(x) && JSON.stringify(x.spec.containers[0].args).includes('--out-peers=8')) && p
        },
        420,
      )
      t.ok(mostDown <= 1, `at most one pod down at a time (seen ${mostDown})`)
      for (const p of rolled) {
        const old = pods.find((x) => x.metadata.name === p.metadata.name)!
        t.not(p.metadata.uid, old.metadata.uid, `${p.metadata.name} replaced`)
        t.equal(s.exec(p.metadata.name, 'monerod', ['cat', '/data/scenario-marker']).trim(), old.metadata.uid, `${p.metadata.name}: data kept`)
        const c = await s.get(pathFor('PersistentVolumeClaim', s.namespace, `data-${p.metadata.name}`))
        t.equal(c.metadata.uid, claimUids.get(p.metadata.name), `${p.metadata.name}: same claim`)
      }
      const started = rolled.map((p) => Date.parse(p.status.startTime)).sort()
      t.ok(started[1]! - started[0]! > 0, `the pods were replaced one after the other (${(started[1]! - started[0]!) / 1000} s apart)`)
    })

    await phase('restarting the hook pods deletes nothing', async () => {
      const children = async () => {
        const out: string[] = []
        for (const kind of ['StatefulSet', 'Service', 'PodDisruptionBudget', 'ConfigMap', 'Secret']) {
          for (const o of (await s.get(pathFor(kind, s.namespace))).items as Json[]) {
            if (o.metadata.ownerReferences?.some((r: Json) => r.kind === 'MoneroNodeSet')) out.push(`${kind}/${o.metadata.name}/${o.metadata.uid}`)
          }
        }
        return out.sort()
      }
      const before = await children()
      const deletesBefore = s.driver?.stats.deletes.length ?? 0
      const hookPods = (await s.get(`/api/v1/namespaces/${OPERATOR_NS}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${RELEASE}`)}`))
        .items as Json[]
      for (const p of hookPods) await s.request('DELETE', `/api/v1/namespaces/${OPERATOR_NS}/pods/${p.metadata.name}`)
      await s.waitFor(
        'new hook pods Ready',
        async () => {
          const now = (await s.get(`/api/v1/namespaces/${OPERATOR_NS}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${RELEASE}`)}`))
            .items as Json[]
          return now.length >= hookPods.length && now.every((p) => podReady(p) && !hookPods.some((o) => o.metadata.uid === p.metadata.uid))
        },
        180,
      )
      s.driver?.resyncAll()
      await s.driver?.idle(60_000)
      t.same(await children(), before, 'every child is still there (same uids)')
      if (s.driver) t.equal(s.driver.stats.deletes.length, deletesBefore, 'the driver deleted nothing')
      t.equal((await s.pods(selector)).filter(podReady).length, 2, 'both pods still Ready')
    })

    await phase('deleting the parent removes the children and keeps the claims', async () => {
      const del = await s.request('DELETE', pathFor('MoneroNodeSet', s.namespace, name))
      t.equal(del.status, 200, 'MoneroNodeSet deleted')
      await s.waitFor(
        'StatefulSet, Services and PDB gone (garbage collector)',
        async () => {
          for (const kind of ['StatefulSet', 'Service', 'PodDisruptionBudget']) {
            const left = ((await s.get(pathFor(kind, s.namespace))).items as Json[]).filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === name)
            if (left.length > 0) return false
          }
          return true
        },
        180,
      )
      await s.waitFor('pods gone', async () => (await s.pods(selector)).length === 0, 120)
      const claims = ((await s.get(pathFor('PersistentVolumeClaim', s.namespace))).items as Json[]).map((c) => c.metadata.name).sort()
      t.same(claims, [`data-${sts}-0`, `data-${sts}-1`, `data-${sts}-2`], 'the chain-data claims are kept')
    })
  })
}
