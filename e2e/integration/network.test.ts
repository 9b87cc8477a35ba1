/**
 * A real regtest network from rendered MoneroNetwork output.
 *
 * Each member runs the real monerod with exactly the args of the rendered StatefulSet and the
 * config file the init container builds from the rendered peers ConfigMap (same function:
 * combineConfigs). Pods have their own network namespace and DNS; processes on one machine do
 * not, so the test changes only what that forces, and nothing else:
 *   - `--data-dir=/data`          -> a temporary directory per member (the pod's volume);
 *   - `--p2p-bind-port`, `--rpc-bind-port`, `--rpc-restricted-bind-port` -> free loopback
 *     ports per member, plus `--zmq-rpc-bind-port` (every pod has its own 18082);
 *   - `--config-file=/run/monerod/monerod.conf` -> that member's copy of the combined file;
 *   - in that file, each peer name `<network>-peer-<i>:18080` -> `127.0.0.1:<p2p port of i>`
 *     (what the member's Service name resolves to in a cluster).
 */
import t from 'tap'
import { requireDaemons } from './daemons.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { V1ConfigMap, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../../hooks/config.js'
import { MonerodClient } from '../../hooks/monerod/client.js'
import { DONATION_ADDRESS, freePort, MONEROD_BIN } from '../../hooks/monerod/regtest.js'
import { combineConfigs } from '../../hooks/nodes/init-node.js'
import { renderResource } from '../../hooks/render.js'
import type { KubeObject } from '../../hooks/metacontroller.js'

const MEMBERS = 6

const skip = requireDaemons('the network integration test', [{ bin: MONEROD_BIN, pkg: 'monero' }])
if (skip) t.plan(0, `skipped: ${skip}`)
else void run()

interface Member {
  index: number
  p2p: number
  rpc: number
  restricted: number
  zmq: number
  dir: string
  args: string[]
  proc?: ChildProcess
  client: MonerodClient
  log: string[]
}

async function run() {
  const network: KubeObject = {
    apiVersion: 'utxo.com.br/v1alpha1',
    kind: 'MoneroNetwork',
    metadata: { name: 'itest', namespace: 'default' },
    spec: { replicas: MEMBERS, template: { spec: { monerod: { args: ['--regtest', '--fixed-difficulty=1'] } } } },
  }
  const rendered = renderResource(network, { config: DEFAULT_CONFIG, now: '2026-11-26T00:00:00Z' })
  const sts = rendered.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  const peers = rendered.children.find((c) => c.kind === 'ConfigMap') as unknown as V1ConfigMap
  const podArgs = sts.spec!.template.spec!.containers.find((c) => c.name === 'monerod')!.args!
  const configText = combineConfigs([peers.data!['peers.conf']!])

  const root = mkdtempSync(join(tmpdir(), 'monero-network-'))
  const members: Member[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const dir = join(root, `member-${i}`)
    mkdirSync(dir)
    const [p2p, rpc, restricted, zmq] = [await freePort(), await freePort(), await freePort(), await freePort()]
    members.push({ index: i, p2p, rpc, restricted, zmq, dir, args: [], client: new MonerodClient({ url: `http://127.0.0.1:${rpc}`, timeoutMs: 10_000 }), log: [] })
  }
  const portOf = new Map(members.map((m) => [`itest-peer-${m.index}:18080`, m.p2p]))
  for (const m of members) {
    let fileText = configText
    for (const [name, port] of portOf) fileText = fileText.split(`=${name}\n`).join(`=127.0.0.1:${port}\n`)
    t.notMatch(fileText, /itest-peer-\d+:/, 'every peer name mapped')
    writeFileSync(join(m.dir, 'monerod.conf'), fileText)
    m.args = podArgs.map((a) => {
      if (a === '--data-dir=/data') return `--data-dir=${join(m.dir, 'data')}`
      if (a.startsWith('--p2p-bind-port=')) return `--p2p-bind-port=${m.p2p}`
      if (a.startsWith('--rpc-bind-port=')) return `--rpc-bind-port=${m.rpc}`
      if (a.startsWith('--rpc-restricted-bind-port=')) return `--rpc-restricted-bind-port=${m.restricted}`
      if (a === '--config-file=/run/monerod/monerod.conf') return `--config-file=${join(m.dir, 'monerod.conf')}`
      return a
    })
    m.args.push(`--zmq-rpc-bind-port=${m.zmq}`)
  }

  const start = (m: Member) => {
    m.proc = spawn('monerod', m.args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (b: Buffer) => {
      m.log.push(b.toString())
      if (m.log.length > 200) m.log.shift()
    }
    m.proc.stdout!.on('data', keep)
    m.proc.stderr!.on('data', keep)
  }
  const stop = async (m: Member) => {
    const p = m.proc
    if (!p || p.exitCode !== null) return
    const exited = new Promise((r) => p.once('exit', r))
    p.kill('SIGTERM')
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(killer)
  }
  t.teardown(async () => {
    await Promise.all(members.map(stop))
    rmSync(root, { recursive: true, force: true })
  })

  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const v = await fn()
        if (v !== undefined) return v
      } catch (err) {
        last = err
      }
      await sleep(1000)
    }
    throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
  }
  const height = async (m: Member) => (await m.client.getHeight()).height

  t.test('members start from the rendered args and find each other', async (t) => {
    members.forEach(start)
    for (const m of members) {
      await waitFor(`member ${m.index} RPC`, async () => ((await height(m)) >= 1 ? true : undefined), 120_000)
    }
    t.pass(`${MEMBERS} monerod processes answer RPC`)
    await waitFor('every member connected', async () => {
      const counts = await Promise.all(members.map(async (m) => (await m.client.getConnections()).connections?.length ?? 0))
      return counts.every((c) => c > 0) ? counts : undefined
    }, 120_000)
    t.pass('every member has at least one peer')
  })

  t.test('blocks mined on one member reach every member; no connection leaves the set', async (t) => {
    await waitFor('generateblocks accepted', async () => {
      const r = await members[0]!.client.generateBlocks({ amount_of_blocks: 10, wallet_address: DONATION_ADDRESS })
      return r.height !== undefined ? r : undefined
    }, 120_000)
    const target = await height(members[0]!)
    t.ok(target >= 11, `member 0 at height ${target}`)
    const started = Date.now()
    const heights = await waitFor('all members at the same height', async () => {
      const hs = await Promise.all(members.map(height))
      return hs.every((h) => h === target) ? hs : undefined
    }, 120_000)
    t.same(heights, members.map(() => target), `all ${MEMBERS} members at ${target} after ${Math.round((Date.now() - started) / 1000)} s`)

    const ourPorts = new Set(members.map((m) => m.p2p))
    for (const m of members) {
      const { connections = [] } = await m.client.getConnections()
      for (const c of connections) {
        const [host, port] = [c.address.slice(0, c.address.lastIndexOf(':')), Number(c.address.slice(c.address.lastIndexOf(':') + 1))]
        t.equal(host, '127.0.0.1', `member ${m.index}: peer ${c.address} is local`)
        if (!c.incoming) t.ok(ourPorts.has(port), `member ${m.index}: outgoing ${c.address} is a member`)
      }
    }
  })

  t.test('a restarted member keeps its chain and rejoins', async (t) => {
    const m = members[3]!
    const before = await height(m)
    await stop(m)
    start(m)
    const after = await waitFor('member 3 RPC after restart', async () => height(m), 120_000)
    t.equal(after, before, `member 3 kept its chain (height ${after}) across a restart`)
    await members[0]!.client.generateBlocks({ amount_of_blocks: 2, wallet_address: DONATION_ADDRESS })
    const target = await height(members[0]!)
    await waitFor('member 3 follows new blocks', async () => ((await height(m)) === target ? true : undefined), 120_000)
    t.pass(`member 3 rejoined and reached ${target}`)
  })
}
