// Scenario (f): a MoneroMiningNodeSet of 2 xmrig pods (--randomx-mode=light) solo-mining
// (--daemon) against a member of a regtest MoneroNetwork, wired the way a researcher would:
// the pool URL is the member's stable DNS name. Blocks found must reach every member, the
// exporter reports xmrig_up 1 and a hashrate, each pod has its own $(id), and a pool change
// by patch rolls the miners to the new target.
//
// Solo mining needs monerod's unrestricted RPC (get_block_template / submit_block), which the
// hooks keep on 127.0.0.1 inside the member's pod and refuse to rebind (--rpc-bind-ip). Until
// an opt-in exists, the mining assertions are marked TODO and the test records what a miner
// sees when it dials the member.
import t from 'tap'
import { SMALL, STORAGE_SIZE, RPC_PORT, monerodRpc, pathFor, phase, podHttp, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const ADDRESS = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A'
const NO_OPT_IN = "needs an opt-in that lets miners reach a member's unrestricted RPC (issue 14 §5); the hooks keep it on 127.0.0.1"

const env = scenarioEnv(t, ['monerodImage', 'xmrigImage'])
if (env) {
  t.test('xmrig miners solo-mining against a regtest network member', async (t) => {
    const s = await setupScenario(t, env, 'mining')
    const net = 'chain'
    const netSelector = `app.kubernetes.io/instance=${net},app.kubernetes.io/part-of=moneronetwork`
    await s.create({
      apiVersion: 'utxo.com.br/v1alpha1',
      kind: 'MoneroNetwork',
      metadata: { name: net },
      spec: {
        replicas: 2,
        template: {
          spec: {
            monerod: { image: env.monerodImage, imagePullPolicy: env.pullPolicy, resources: SMALL, args: ['--regtest', '--fixed-difficulty=1'] },
            storage: { size: STORAGE_SIZE },
            terminationGracePeriodSeconds: 30,
          },
        },
      },
    })
    const members = await phase('2 network members Ready', () =>
      s.waitFor(
        '2 Ready members',
        async () => {
          const p = await s.pods(netSelector)
          return p.length === 2 && p.every(podReady) && p
        },
        300,
      ),
    )
    const names = members.map((p) => p.metadata.name as string).sort()
    const headless = (await s.get(pathFor('Service', s.namespace))).items.find((svc: Json) => svc.spec.clusterIP === 'None')?.metadata.name as string
    const target = (member: string) => `${member}.${headless}.${s.namespace}.svc.cluster.local:${RPC_PORT}`
    const startHeight = monerodRpc(s, names[0]!, '/get_height').height as number

    const miners = 'miners'
    const minerSelector = `app.kubernetes.io/instance=${miners},app.kubernetes.io/part-of=monerominingnodeset`
    await s.create({
      apiVersion: 'utxo.com.br/v1alpha1',
      kind: 'MoneroMiningNodeSet',
      metadata: { name: miners },
      spec: {
        replicas: 2,
        pool: { url: target(names[0]!), user: ADDRESS },
        threads: 1,
        xmrig: {
          image: env.xmrigImage,
          imagePullPolicy: env.pullPolicy,
          args: ['--daemon', '--randomx-mode=light', '--rig-id=node-$(id)'],
          resources: { requests: { cpu: '100m', memory: '384Mi' }, limits: { memory: '1Gi' } },
        },
      },
    })
    const pods = await phase('2 miner pods running', () =>
      s.waitFor(
        '2 miner pods with xmrig running',
        async () => {
          const p = await s.pods(minerSelector)
          return p.length === 2 && p.every((x) => (x.status.containerStatuses as Json[] | undefined)?.find((c) => c.name === 'xmrig')?.state?.running) && p
        },
        240,
      ),
    )

    await phase('each miner its own $(id); exporter up', async () => {
      const ids = pods.map((p) => s.exec(p.metadata.name, 'xmrig', ['printenv', 'id']).trim()).sort()
      t.same(ids, ['0', '1'], `each pod has its own $(id) (${ids.join(', ')})`)
      for (const p of pods) {
        const text = await s.waitFor(
          `${p.metadata.name}: exporter serves xmrig_up`,
          async () => {
            const m = await podHttp(s, p.metadata.name, 9533, '/metrics')
            return /^xmrig_up /m.test(m) && m
          },
          90,
        )
        t.match(text, /^xmrig_up 1$/m, `${p.metadata.name}: xmrig_up 1`)
      }
    })

    let mined = false
    await phase('blocks found and seen by every member', async () => {
      // What a miner meets when it dials the member's RPC port (from the miner's exporter sidecar).
      const probe = `const r = await fetch('http://${target(names[0]!)}/get_height', { method: 'POST', signal: AbortSignal.timeout(5000) }).then((r) => 'HTTP ' + r.status, (e) => String(e.cause?.code ?? e.message)); process.stdout.write(r)`
      const seen = s.exec(pods[0]!.metadata.name, 'exporter', ['node', '--input-type=module', '-e', probe]).trim()
      t.comment(`a miner dialing ${target(names[0]!)} gets: ${seen}`)
      try {
        await s.waitFor(
          'the network height to grow by 2 blocks',
          async () => (monerodRpc(s, names[0]!, '/get_height').height as number) >= startHeight + 2,
          120,
        )
        mined = true
      } catch (err) {
        t.comment((err as Error).message)
      }
      t.ok(mined, 'the miners found blocks', { todo: mined ? false : NO_OPT_IN })
      if (mined) {
        const h = monerodRpc(s, names[0]!, '/get_height').height as number
        await s.waitFor(`${names[1]} at height ${h}`, async () => (monerodRpc(s, names[1]!, '/get_height').height as number) >= h, 60)
        t.pass(`every member reached height ${h}`)
        const m = await podHttp(s, pods[0]!.metadata.name, 9533, '/metrics')
        t.match(m, /^xmrig_hashrate\S* [1-9]/m, 'the exporter reports a hashrate')
      }
    })

    await phase('a pool change by patch rolls the miners', async () => {
      if (!mined) {
        // A miner is Ready only once connected to its daemon: with none reachable, the
        // StatefulSet rightly stops its rollout after the first replaced miner.
        t.ok(false, 'a pool change by patch rolls the miners', {
          todo: `${NO_OPT_IN} (a miner that cannot reach its daemon never becomes Ready, so the rollout stops after one)`,
        })
        return
      }
      await s.patch('MoneroMiningNodeSet', miners, { spec: { pool: { url: target(names[1]!) } } })
      const rolled = await s.waitFor(
        'both miners recreated with the new pool',
        async () => {
          const p = await s.pods(minerSelector)
          return (
            p.length === 2 &&
            p.every((x) => !pods.some((o) => o.metadata.uid === x.metadata.uid) && JSON.stringify(x.spec.containers[0].args).includes(target(names[1]!))) &&
            p
          )
        },
        240,
      )
      t.equal(rolled.length, 2, `both miners now dial ${target(names[1]!)}`)
    })
  })
}
