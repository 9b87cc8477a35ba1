// Scenario (f): a MoneroMiningNodeSet of 2 xmrig pods (--randomx-mode=light) solo-mining
// (--daemon) against a member of a regtest MoneroNetwork, wired the way a researcher would:
// the pool URL is the member's stable DNS name. Blocks found must reach every member, the
// exporter reports xmrig_up 1 and a hashrate, each pod has its own $(id), and a pool change
// by patch rolls the miners to the new target.
//
// Solo mining needs monerod's unrestricted RPC (get_block_template / submit_block): the
// network opts in with soloMining (miners: [miners]), which binds it on the members' pod
// addresses and adds a NetworkPolicy admitting only the miners' pods to it. The cluster tier's
// bridge CNI does not enforce NetworkPolicy, so the policy's content is asserted, not its
// effect.
import t from 'tap'
import { SMALL, STORAGE_SIZE, RPC_PORT, monerodRpc, pathFor, phase, podHttp, podReady, scenarioEnv, setupScenario, type Scenario } from './harness.js'

type Json = Record<string, any>

/**
 * Every hash at difficulty 1 is a block: two miners would send monerod dozens of (mostly stale)
 * blocks a second, each verified, on a machine of 2 cores. At this difficulty and half a core
 * per miner (light mode) blocks come about one a second.
 */
const DIFFICULTY = 50
const ADDRESS = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A'

/** The samples of one metric in Prometheus text (`name{labels} value` lines). */
function samples(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m && m[1] === name) out.push({ labels: m[2] ?? '', value: Number(m[3]) })
  }
  return out
}

/** xmrig's command line as the kernel has it (after Kubernetes expanded $(VAR)). */
function xmrigCmdline(s: Scenario, pod: string): string[] {
  return s.exec(pod, 'xmrig', ['cat', '/proc/1/cmdline']).split('\0').filter(Boolean)
}

const env = scenarioEnv(t, ['monerodImage', 'xmrigImage'])
if (env) {
  t.test('xmrig miners solo-mining against a regtest network member', async (t) => {
    const s = await setupScenario(t, env, 'mining')
    const net = 'chain'
    const miners = 'miners'
    const netSelector = `app.kubernetes.io/instance=${net},app.kubernetes.io/part-of=moneronetwork`
    await s.create({
      apiVersion: 'utxo.com.br/v1alpha1',
      kind: 'MoneroNetwork',
      metadata: { name: net },
      spec: {
        replicas: 2,
        template: {
          spec: {
            monerod: { image: env.monerodImage, imagePullPolicy: env.pullPolicy, resources: SMALL, args: ['--regtest', `--fixed-difficulty=${DIFFICULTY}`] },
            storage: { size: STORAGE_SIZE },
            terminationGracePeriodSeconds: 30,
            soloMining: { enabled: true, miners: [miners] },
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
          resources: { requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '500m', memory: '1Gi' } },
        },
      },
    })
    // A miner is Ready once its exporter sees xmrig connected to its daemon.
    const pods = await phase('2 miner pods Ready (connected to their daemon)', () =>
      s.waitFor(
        '2 Ready miner pods',
        async () => {
          const p = await s.pods(minerSelector)
          return p.length === 2 && p.every(podReady) && p
        },
        300,
      ),
    )

    await phase('each miner its own $(id); exporter up', async () => {
      const ids = pods.map((p) => s.exec(p.metadata.name, 'xmrig', ['printenv', 'id']).trim()).sort()
      t.same(ids, ['0', '1'], `each pod has its own $(id) (${ids.join(', ')})`)
      // and xmrig runs with it expanded: --rig-id=node-$(id) became node-0 / node-1
      const rigIds = pods.map((p) => xmrigCmdline(s, p.metadata.name).find((a) => a.startsWith('--rig-id='))).sort()
      t.same(rigIds, ['--rig-id=node-0', '--rig-id=node-1'], `xmrig runs with its own rig id (${rigIds.join(', ')})`)
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

    await phase('the opt-in: unrestricted RPC reachable by DNS name, NetworkPolicy for the miners', async () => {
      const policy = (await s.get(`/apis/networking.k8s.io/v1/namespaces/${s.namespace}/networkpolicies/${net}-peer-solo-mining`)) as Json
      const selects = policy.spec.podSelector.matchLabels as Record<string, string>
      t.same(selects, { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': net, 'app.kubernetes.io/part-of': 'moneronetwork' })
      t.ok(
        members.every((p) => Object.entries(selects).every(([k, v]) => p.metadata.labels[k] === v)),
        'the policy selects every member pod',
      )
      t.same(policy.spec.policyTypes, ['Ingress'])
      const [open, mining] = policy.spec.ingress as [Json, Json]
      t.notOk(open.from, 'rule 1 admits anyone')
      t.same(
        (open.ports as Json[]).map((p) => p.port).sort((x, y) => x - y),
        [9533, 18080, 18089],
        'rule 1: P2P, restricted RPC and metrics stay open to all',
      )
      t.same(mining.ports, [{ protocol: 'TCP', port: RPC_PORT }], 'rule 2: the unrestricted RPC port only')
      const admitted = mining.from as Json[]
      t.same(
        admitted,
        [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'xmrig', 'app.kubernetes.io/instance': miners, 'app.kubernetes.io/part-of': 'monerominingnodeset' },
            },
          },
        ],
        "rule 2: only the miners' pods",
      )
      t.ok(
        pods.every((p) => Object.entries(admitted[0]!.podSelector.matchLabels as Record<string, string>).every(([k, v]) => p.metadata.labels[k] === v)),
        'rule 2 matches both miner pods',
      )
      const member = members.find((p) => p.metadata.name === names[0])!
      t.ok(
        (member.spec.containers as Json[]).find((c) => c.name === 'monerod')?.ports.some((p: Json) => p.name === 'rpc-mining' && p.containerPort === RPC_PORT),
        'monerod declares rpc-mining',
      )
      // What xmrig calls, from a miner pod (its exporter sidecar has node), by the member's DNS name:
      // get_block_template is served only by the unrestricted RPC.
      const probe = `const r = await fetch('http://${target(names[0]!)}/json_rpc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: '0', method: 'get_block_template', params: { wallet_address: '${ADDRESS}', reserve_size: 8 } }), signal: AbortSignal.timeout(20000) }).then((r) => r.text(), (e) => JSON.stringify({ failed: String(e) })); process.stdout.write(r)`
      const answer = await s.waitFor(
        `a block template from ${target(names[0]!)}`,
        async () => {
          const a = JSON.parse(s.exec(pods[0]!.metadata.name, 'exporter', ['node', '--input-type=module', '-e', probe])) as Json
          if (a.failed) t.comment(`get_block_template: ${a.failed}`)
          return a.result && a
        },
        90,
      )
      t.equal(answer.result?.status, 'OK', `a miner gets a block template from ${target(names[0]!)}`)
      t.equal(answer.result?.difficulty, DIFFICULTY, 'at the network difficulty')
      t.ok((answer.result?.height as number) > 0, `template for height ${answer.result?.height}`)
    })

    await phase('blocks found by the miners and seen by every member', async () => {
      const reached = await s.waitFor(
        'the network height to grow by 10 blocks',
        async () => {
          const h = monerodRpc(s, names[0]!, '/get_height').height as number
          return h >= startHeight + 10 && h
        },
        180,
      )
      t.ok(reached >= startHeight + 10, `height ${startHeight} -> ${reached}: nothing but the miners makes blocks here`)
      for (const p of pods) {
        const m = await podHttp(s, p.metadata.name, 9533, '/metrics')
        const good = samples(m, 'xmrig_shares_good_total')[0]?.value ?? 0
        t.ok(good > 0, `${p.metadata.name}: xmrig had ${good} blocks accepted by the daemon`)
        const rates = samples(m, 'xmrig_hashrate_hps')
        t.ok(
          rates.some((r) => r.value > 0),
          `${p.metadata.name}: the exporter reports a hashrate (${rates.map((r) => `${r.labels} ${r.value}`).join(', ')})`,
        )
        t.same(
          samples(m, 'xmrig_pool_info').map((r) => r.labels),
          [`{pool="${target(names[0]!)}"}`],
          `${p.metadata.name}: connected to ${names[0]}`,
        )
      }
      // A block a few below the tip (no reorg reaches it) is the same block on every member.
      const h = reached - 5
      const hashes = await s.waitFor(
        `every member has block ${h}`,
        async () => {
          const got = names.map((n) => {
            const info = monerodRpc(s, n, 'get_info')
            return (info.height as number) > h ? (monerodRpc(s, n, 'get_block_header_by_height', { height: h }).block_header.hash as string) : undefined
          })
          return got.every(Boolean) && got
        },
        120,
      )
      t.equal(new Set(hashes).size, 1, `block ${h} is ${hashes[0]} on ${names.join(' and ')}`)
    })

    await phase('a pool change by patch rolls the miners', async () => {
      await s.patch('MoneroMiningNodeSet', miners, { spec: { pool: { url: target(names[1]!) } } })
      const rolled = await s.waitFor(
        'both miners recreated with the new pool and Ready',
        async () => {
          const p = await s.pods(minerSelector)
          return (
            p.length === 2 &&
            p.every(
              (x) =>
                !pods.some((o) => o.metadata.uid === x.metadata.uid) &&
                (x.spec.containers as Json[]).find((c) => c.name === 'xmrig')?.args.includes(`--url=${target(names[1]!)}`) &&
                podReady(x),
            ) &&
            p
          )
        },
        300,
      )
      t.equal(rolled.length, 2, 'two new miner pods, both Ready')
      for (const p of rolled) {
        const cmd = xmrigCmdline(s, p.metadata.name)
        t.ok(cmd.includes(`--url=${target(names[1]!)}`), `${p.metadata.name}: xmrig runs with --url=${target(names[1]!)}`)
        t.notOk(cmd.includes(`--url=${target(names[0]!)}`), `${p.metadata.name}: and not with the old pool`)
        const m = await s.waitFor(
          `${p.metadata.name}: exporter shows the new pool`,
          async () => {
            const text = await podHttp(s, p.metadata.name, 9533, '/metrics')
            return samples(text, 'xmrig_pool_info').length > 0 && text
          },
          60,
        )
        t.same(
          samples(m, 'xmrig_pool_info').map((r) => r.labels),
          [`{pool="${target(names[1]!)}"}`],
          `${p.metadata.name}: connected to ${names[1]}`,
        )
      }
      const before = monerodRpc(s, names[1]!, '/get_height').height as number
      const after = await s.waitFor(
        `blocks keep coming through ${names[1]}`,
        async () => {
          const h = monerodRpc(s, names[1]!, '/get_height').height as number
          return h >= before + 3 && h
        },
        120,
      )
      t.ok(after >= before + 3, `height ${before} -> ${after} with the miners on ${names[1]}`)
    })

    await phase('miners stopped: every member has the same top block', async () => {
      await s.patch('MoneroMiningNodeSet', miners, { spec: { replicas: 0 } })
      await s.waitFor('no miner pods', async () => (await s.pods(minerSelector)).length === 0, 120)
      const tops = await s.waitFor(
        'the same top block on every member',
        async () => {
          const infos = names.map((n) => monerodRpc(s, n, 'get_info'))
          return infos.every((i) => i.top_block_hash === infos[0]!.top_block_hash && i.height === infos[0]!.height) && infos
        },
        60,
      )
      t.ok((tops[0]!.height as number) > startHeight + 13, `every member at height ${tops[0]!.height}, top block ${tops[0]!.top_block_hash}`)
    })
  })
}
