/**
 * End to end without a cluster: a MoneroNodeSet with Tor and I2P and 3 replicas is rendered
 * by the hook; each replica's files are laid out by the REAL init-node code from the
 * rendered Secret and ConfigMap data, as the pod would have them; then the real daemons run
 * on them:
 *   - `tor --verify-config` accepts each replica's torrc;
 *   - tor started offline writes a `hostname` equal to that replica's status onion;
 *   - i2pd started on the rendered i2pd.conf / tunnels.conf shows that replica's status b32;
 *   - re-syncs (with observed children), a pod restart and scale 3 -> 1 -> 3 leave every
 *     address and every key byte unchanged.
 *
 * Changes to the rendered files, all forced by running three pods' daemons on one host
 * without network (and nothing else):
 *   - paths: /var/lib/tor, /var/lib/i2pd, /etc/monero-operator/{tor,i2pd}, the keys volume
 *     and /run/monerod are re-rooted under a temporary directory per replica;
 *   - ports: tor's SocksPort and i2pd's SOCKS / web console / router ports are replaced by
 *     free loopback ports (three replicas would collide on 9050 / 4447 / 7070);
 *   - tor: `DisableNetwork 1` is appended (tor still loads the keys and writes `hostname`);
 *   - i2pd: `--reseed.urls=https://127.0.0.1:9/` and `--addressbook.enabled=false` on its
 *     command line, so it never reaches the real reseed servers; `--certsdir` is the Debian
 *     package's, as in the pod;
 *   - init-node's `hostname` and `hs_ed25519_public_key` are deleted before tor starts, so
 *     tor derives them itself from the secret key (otherwise the check would be circular).
 *
 * Needs tor and i2pd (Debian packages). Missing: skipped, unless CI=true (then a failure).
 */
import t from 'tap'
import { requireDaemons, type RunningDaemon, startDaemon } from './daemons.js'
import { freePort } from '../../hooks/monerod/regtest.js'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { V1StatefulSet } from '@kubernetes/client-node'
import type { HookConfig } from '../../hooks/config.js'
import { DEFAULT_CONFIG } from '../../hooks/config.js'
import { findHandler, handleSync, isHookError } from '../../hooks/handlers.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { ANONYMITY_PATHS, type HiddenServiceStatus } from '../../hooks/nodes/anonymity.js'
import { runInitNode } from '../../hooks/init-node/init-node.js'

const TOR = process.env.TOR_BIN ?? 'tor'
const I2PD = process.env.I2PD_BIN ?? 'i2pd'
const skip = requireDaemons('the anonymity wiring test', [
  { bin: TOR, pkg: 'tor' },
  { bin: I2PD, pkg: 'i2pd' },
])

const config: HookConfig = { ...DEFAULT_CONFIG, keySeed: Buffer.from('anonymity wiring integration seed, not for production') }
const handler = findHandler('MoneroNodeSet')!
const NAME = 'anon'
const WORKLOAD = `${NAME}-monerod`

function parent(replicas: number): KubeObject {
  return {
    apiVersion: 'utxo.com.br/v1alpha1',
    kind: 'MoneroNodeSet',
    metadata: { name: NAME, namespace: 'default', uid: 'u-anon', generation: 1 },
    spec: { replicas, tor: { enabled: true, publish: { p2p: true, restrictedRpc: true } }, i2p: { enabled: true } },
  }
}

function sync(p: KubeObject, observed: KubeObject[] = []): SyncResponse {
  const children: Record<string, Record<string, KubeObject>> = {}
  for (const o of observed) {
    ;(children[`${o.kind}.${o.apiVersion}`] ??= {})[`default/${o.metadata.name}`] = {
      ...structuredClone(o),
      metadata: { ...o.metadata, uid: `c-${o.metadata.name}`, resourceVersion: '7' },
    }
  }
  const r = handleSync(handler, { parent: p, children, related: {} }, { config, now: '2026-11-26T12:00:00Z' })
  if (isHookError(r)) throw new Error(r.message)
  return r
}

const dataOf = (r: SyncResponse, kind: string) => (r.children.find((c) => c.kind === kind) as KubeObject & { data: Record<string, string> }).data
const statusOf = (r: SyncResponse) => r.status.hiddenServices as HiddenServiceStatus[]

type Running = RunningDaemon
const start = startDaemon

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()))
  r.child.kill('SIGTERM')
  await exited
}

async function waitFor<T>(what: string, r: Running, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (r.child.exitCode !== null) throw new Error(`exited with ${r.child.exitCode} before ${what}:\n${r.output().slice(-3000)}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${r.output().slice(-3000)}`)
    await sleep(200)
  }
}

/** i2pd's web console; Host header spelled by hand (see e2e/integration/i2pd.test.ts). */
function consolePage(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(body))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(5000, () => req.destroy(new Error('console timeout')))
  })
}

/** One replica's pod filesystem, re-rooted under `root`. */
interface PodFs {
  root: string
  keys: string
  torConfig: string
  i2pdConfig: string
  tor: string
  i2pd: string
  run: string
}

function podFs(root: string): PodFs {
  return {
    root,
    keys: join(root, 'keys'),
    torConfig: join(root, 'etc', 'tor'),
    i2pdConfig: join(root, 'etc', 'i2pd'),
    tor: join(root, 'var-lib-tor'),
    i2pd: join(root, 'var-lib-i2pd'),
    run: join(root, 'run'),
  }
}

const relocate = (fs: PodFs) => (text: string) =>
  text
    .replaceAll(ANONYMITY_PATHS.keys, fs.keys)
    .replaceAll(ANONYMITY_PATHS.torConfigDir, fs.torConfig)
    .replaceAll(ANONYMITY_PATHS.i2pdConfigDir, fs.i2pdConfig)
    .replaceAll(ANONYMITY_PATHS.torVolume, fs.tor)
    .replaceAll(ANONYMITY_PATHS.i2pdDataDir, fs.i2pd)
    .replaceAll('/run/monerod', fs.run)

/** What kubelet and the init container do for replica `replica`: mount, then `cli init-node`. */
async function layOut(fs: PodFs, rendered: SyncResponse, replica: number): Promise<{ torrc: string; i2pdConf: string; monerodConf: string }> {
  const move = relocate(fs)
  await mkdir(fs.keys, { recursive: true })
  for (const [key, value] of Object.entries(dataOf(rendered, 'Secret'))) {
    await writeFile(join(fs.keys, key), Buffer.from(value, 'base64'), { mode: 0o440 })
  }
  const cm = dataOf(rendered, 'ConfigMap')
  await mkdir(fs.torConfig, { recursive: true })
  await mkdir(fs.i2pdConfig, { recursive: true })
  await writeFile(join(fs.i2pdConfig, 'tunnels.conf'), cm['tunnels.conf'] as string)
  await mkdir(fs.tor, { recursive: true })
  await mkdir(fs.i2pd, { recursive: true })
  const sts = rendered.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  const init = sts.spec!.template.spec!.initContainers!.find((c) => c.name === 'init-node')!
  const args = init.args!.slice(2).map(move) // drop `dist/hooks/cli.js init-node`
  const code = await runInitNode(args, () => {}, { POD_NAME: `${WORKLOAD}-${replica}` })
  if (code !== 0) throw new Error(`init-node exited ${code}`)
  return { torrc: move(cm.torrc as string), i2pdConf: move(cm['i2pd.conf'] as string), monerodConf: await readFile(join(fs.run, 'monerod.conf'), 'utf8') }
}

async function runTor(tt: { teardown(fn: () => unknown): void }, fs: PodFs, torrc: string): Promise<string> {
  const socks = await freePort()
  const path = join(fs.torConfig, 'torrc')
  await writeFile(path, `${torrc.replace(/^SocksPort 127\.0\.0\.1:9050$/m, `SocksPort 127.0.0.1:${socks}`)}DisableNetwork 1\n`)
  const verify = spawnSync(TOR, ['--verify-config', '-f', path], { encoding: 'utf8' })
  if (verify.status !== 0) throw new Error(`tor --verify-config failed:\n${verify.stdout}${verify.stderr}`)
  const service = join(fs.tor, 'hidden_service')
  await unlink(join(service, 'hostname')).catch(() => {})
  await unlink(join(service, 'hs_ed25519_public_key')).catch(() => {})
  const tor = start(tt, TOR, ['-f', path])
  const hostname = await waitFor('tor writes hostname', tor, async () => {
    const text = await readFile(join(service, 'hostname'), 'utf8')
    return text.length > 0 ? text : undefined
  })
  await stop(tor)
  return hostname.trim()
}

async function runI2pd(tt: { teardown(fn: () => unknown): void }, fs: PodFs, i2pdConf: string): Promise<string> {
  const http = await freePort()
  const conf = i2pdConf
    .replace(/(\[http\]\nenabled = true\naddress = 127\.0\.0\.1\nport = )7070/, `$1${http}`)
    .replace(/(\[socksproxy\]\nenabled = true\naddress = 127\.0\.0\.1\nport = )4447/, `$1${await freePort()}`)
    .replace(/^nat = true$/m, `nat = true\nport = ${await freePort()}`)
  const path = join(fs.i2pdConfig, 'i2pd.conf')
  await writeFile(path, conf)
  const sts = rendered3.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  const sidecar = sts.spec!.template.spec!.containers.find((c) => c.name === 'i2pd')!
  const args = [...sidecar.args!.map(relocate(fs)), '--reseed.urls=https://127.0.0.1:9/', '--addressbook.enabled=false']
  const i2pd = start(tt, sidecar.command![0]!.replace(/^i2pd$/, I2PD), args)
  const b32 = await waitFor('i2pd shows the server tunnel', i2pd, async () => {
    const page = await consolePage(http, '/?page=i2p_tunnels')
    const m = /Server Tunnels[\s\S]*?b32=([a-z2-7]{52})">monerod</.exec(page)
    return m ? `${m[1]}.b32.i2p` : undefined
  })
  await stop(i2pd)
  return b32
}

let rendered3: SyncResponse

t.test('rendered Tor/I2P wiring runs on the real daemons with the addresses in status', { skip }, async (t) => {
  const started = Date.now()
  rendered3 = sync(parent(3))
  const status = statusOf(rendered3)
  t.equal(status.length, 3)
  const base = await mkdtemp(join(tmpdir(), 'monero-operator-anon-'))
  t.teardown(() => rm(base, { recursive: true, force: true }))
  const pods = [0, 1, 2].map((i) => podFs(join(base, `pod-${i}`)))

  for (const [replica, fs] of pods.entries()) {
    const files = await layOut(fs, rendered3, replica)
    const h = status[replica]!
    t.equal(
      files.monerodConf,
      `anonymous-inbound=${h.onion}:18084,127.0.0.1:18084,64\nanonymous-inbound=${h.i2p},127.0.0.1:18085,64\n`,
      `replica ${replica}: monerod config fragment`,
    )
    t.equal((await stat(join(fs.tor, 'hidden_service'))).mode & 0o777, 0o700)
    const onion = await runTor(t, fs, files.torrc)
    t.equal(onion, h.onion, `replica ${replica}: tor's hostname equals status`)
    const b32 = await runI2pd(t, fs, files.i2pdConf)
    t.equal(b32, h.i2p, `replica ${replica}: i2pd's b32 equals status`)
    t.same(
      await readFile(join(fs.i2pd, 'monerod.dat')),
      Buffer.from(dataOf(rendered3, 'Secret')[`${replica}.monerod.dat`]!, 'base64'),
      'i2pd did not rewrite the keys',
    )
  }
  t.equal(new Set(status.flatMap((h) => [h.onion, h.i2p])).size, 6, 'all addresses differ')

  // Two re-syncs with observed children, then scale 3 -> 1 -> 3.
  const again = sync(parent(3), rendered3.children)
  const twice = sync(parent(3), again.children)
  const one = sync(parent(1), twice.children)
  const three = sync(parent(3), one.children)
  for (const [what, r] of [
    ['re-sync', again],
    ['second re-sync', twice],
    ['scale 1 -> 3', three],
  ] as const) {
    t.same(statusOf(r), status, `${what}: addresses unchanged`)
    t.same(dataOf(r, 'Secret'), dataOf(rendered3, 'Secret'), `${what}: key bytes unchanged`)
  }
  t.same(statusOf(one), status.slice(0, 1), 'scaled to 1: replica 0 unchanged')

  // A restart of replica 0's pod after all that: init-node runs again on the same volumes.
  const restarted = await layOut(pods[0]!, three, 0)
  t.equal(await runTor(t, pods[0]!, restarted.torrc), status[0]!.onion, 'after a restart tor still writes the same hostname')
  t.comment(`3 replicas through tor and i2pd in ${((Date.now() - started) / 1000).toFixed(1)} s`)
})
