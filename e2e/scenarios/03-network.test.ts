// Scenario (c): a regtest MoneroNetwork of 4 members (examples/moneronetwork-regtest.yaml,
// image overridden, small requests) forms through cluster DNS, keeps every connection inside
// the set, carries blocks generated on one member to all of them, and a deleted member comes
// back on its own claim with its chain.
import t from 'tap'
import { exampleObjects } from '../apiserver/kube.js'
import { GiveUp, SMALL, STORAGE_SIZE, monerodRpc, pathFor, phase, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any>

/** Any mainnet address is a valid regtest address (MONERO.md). */
const ADDRESS = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A'
const MEMBERS = 4

const env = scenarioEnv(t, ['monerodImage'])
if (env) {
  t.test('a regtest MoneroNetwork of 4 members', async (t) => {
    const s = await setupScenario(t, env, 'network')
    const network = structuredClone(exampleObjects().find((e) => e.file === 'moneronetwork-regtest.yaml')!.object as Json)
    network.spec.replicas = MEMBERS
    const spec = network.spec.template.spec
    spec.monerod.image = env.monerodImage
    spec.monerod.imagePullPolicy = env.pullPolicy
    spec.monerod.resources = SMALL
    spec.storage = { size: STORAGE_SIZE }
    spec.terminationGracePeriodSeconds = 30
    const name = network.metadata.name as string
    const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/part-of=moneronetwork`
    const height = (pod: string) => monerodRpc(s, pod, '/get_height').height as number

    const pods = await phase('4 members Ready', async () => {
      await s.create(network)
      return s.waitFor(
        `${MEMBERS} Ready members`,
        async () => {
          const p = await s.pods(selector)
          const bad = p.filter((x) => (x.status.containerStatuses as Json[] | undefined)?.some((c) => c.restartCount > 2))
          if (bad.length > 0) throw new GiveUp(`crash-looping: ${bad.map((x) => x.metadata.name).join(', ')}`)
          return p.length === MEMBERS && p.every(podReady) && p
        },
        300,
      )
    })
    const names = pods.map((p) => p.metadata.name as string).sort()
    // The set: every member's pod address and the ClusterIP of its per-member Service (named
    // like the pod), which is the address its peers dial (the init-node sidecar resolves the
    // name for monerod).
    const ips = new Set(pods.map((p) => p.status.podIP as string))
    for (const member of names) {
      const service = await s.get(`/api/v1/namespaces/${s.namespace}/services/${member}`)
      ips.add((service.spec as Json).clusterIP as string)
    }

    await phase('the network forms through cluster DNS, inside the set', async () => {
      const connected = await s.waitFor(
        'every member connected to another member',
        async () => {
          const all: Record<string, Json[]> = {}
          for (const pod of names) {
            const conns = (monerodRpc(s, pod, 'get_connections').connections ?? []) as Json[]
            if (conns.length === 0) return false
            all[pod] = conns
          }
          return all
        },
        180,
      )
      for (const [pod, conns] of Object.entries(connected)) {
        const outside = conns.filter((c) => !ips.has(c.host ?? c.ip))
        t.equal(
          outside.length,
          0,
          `${pod}: ${conns.length} connection(s), none leaves the set${outside.length ? `: ${outside.map((c) => c.address).join(', ')}` : ''}`,
        )
      }
    })

    const target = await phase('blocks generated on one member reach all', async () => {
      const start = height(names[0]!)
      await s.waitFor(
        'generateblocks accepted (not BUSY)',
        async () => {
          try {
            const r = monerodRpc(s, names[0]!, 'generateblocks', { amount_of_blocks: 5, wallet_address: ADDRESS })
            return r.status === 'OK' && r
          } catch (err) {
            if (/BUSY|not synchronized/i.test((err as Error).message)) return false
            throw err
          }
        },
        120,
      )
      const want = start + 5
      for (const pod of names) {
        const h = await s.waitFor(`${pod} at height ${want}`, async () => (height(pod) >= want ? height(pod) : false), 120)
        t.ok(h >= want, `${pod}: height ${h} >= ${want}`)
      }
      return want
    })

    await phase('a deleted member comes back with its chain', async () => {
      const victim = names[2]!
      const claimPath = pathFor('PersistentVolumeClaim', s.namespace, `data-${victim}`)
      const claimBefore = await s.get(claimPath)
      const before = pods.find((p) => p.metadata.name === victim)!
      s.exec(victim, 'monerod', ['sh', '-c', `echo ${before.metadata.uid} > /data/scenario-marker`])
      const del = await s.request('DELETE', pathFor('Pod', s.namespace, victim))
      t.equal(del.status, 200, `${victim} deleted`)
      const back = await s.waitFor(
        `${victim} back and Ready`,
        async () => {
          const p = (await s.pods(selector)).find((x) => x.metadata.name === victim)
          return p && p.metadata.uid !== before.metadata.uid && podReady(p) && p
        },
        180,
      )
      t.not(back.metadata.uid, before.metadata.uid, 'a new pod')
      const claimAfter = await s.get(claimPath)
      t.equal(claimAfter.metadata.uid, claimBefore.metadata.uid, 'on the same claim')
      t.equal(s.exec(victim, 'monerod', ['cat', '/data/scenario-marker']).trim(), before.metadata.uid, 'what the old pod wrote to /data is there')
      const h = height(victim)
      t.ok(h >= target, `its chain is there: height ${h} >= ${target}`)
      const others = names.filter((n) => n !== victim).map(height)
      t.ok(
        others.every((o) => o === h || o >= target),
        `same height as the others (${others.join(', ')})`,
      )
    })
  })
}
