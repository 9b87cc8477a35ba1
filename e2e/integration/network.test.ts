/**
 * A real regtest MoneroNetwork, run exactly as rendered: every member is the rendered
 * StatefulSet pod (init containers, native sidecars, monerod, exporter) with its rendered
 * args, env and volume layout, in a network namespace of its own, resolving its peers' names
 * through the real resolver and a hosts file that lists what the cluster's DNS would (the
 * members' Services). Nothing rendered is rewritten; see pod-runner.ts.
 *
 * Runs with two monerod versions: Debian 12's 0.18.0.0 (/usr/bin/monerod) and Debian 13's
 * 0.18.4.0 (a root directory built by build-monerod-trixie.sh). Per version: 6 members form
 * a network and mine; then the network is scaled down to 3 (pods and Services 3..5 gone) and
 * monerod of member 1 is killed before kubelet has refreshed the peers ConfigMap, that of
 * member 2 after: each must come back with the same args (init containers not run again,
 * sidecars still running), stay up without aborting on a gone member, and rejoin. Last, a
 * scale-up to 4: member 3 returns and the members that stayed learn it.
 *
 *   MONERO_OPERATOR_CACHE=~/.cache/monero-operator bash e2e/integration/build-monerod-trixie.sh
 *   npm run compile && npx tap --disable-coverage dist/e2e/integration/network.test.js
 *
 * Needs root, iproute2, bubblewrap and util-linux; skipped without them, a failure under CI=true.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createConnection, createServer, type Server } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type { V1Service, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../../hooks/config.js'
import { LABEL_POD_NAME } from '../../hooks/labels.js'
import { MonerodClient } from '../../hooks/monerod/client.js'
import { MonerodStatusError } from '../../hooks/monerod/errors.js'
import { DONATION_ADDRESS } from '../../hooks/monerod/regtest.js'
import { renderResource } from '../../hooks/render.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { requireSetup } from './daemons.js'
import { configMapsOf, Pod, PodNetwork, podRunnerUnavailable, type ImageSpec, type PodNetHost } from './pod-runner.js'

const MEMBERS = 6
const SCALED = 3
const NAMESPACE = 'default'
/** Waits, generous for a shared CI machine: each is normally done in seconds. */
const READY_MS = 300_000
const WAIT_MS = 180_000

// The repo root (the operator image's /app: package.json, node_modules, the compiled dist/),
// whether this file runs from e2e/integration or from dist/e2e/integration.
const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('network.test: repo root not found')
    dir = up
  }
  return dir
})()
const CACHE = process.env.MONERO_OPERATOR_CACHE ?? join(REPO, '.cache')
const TRIXIE_ROOT = join(CACHE, 'monero-trixie-rootfs')

/** A failure that waiting longer cannot fix (a monerod that exited). */
class Fatal extends Error {}

interface Version {
  label: string
  /** The image name the test puts in spec.template.spec.monerod.image. */
  image: string
  root: string
  prefix: string
  subnet: string
  missing?: string
}

const versions: Version[] = [
  {
    label: "Debian 12's monerod 0.18.0.0",
    image: 'monerod-under-test:debian-12',
    root: '/',
    prefix: 'monna',
    subnet: '10.213.41',
    missing: existsSync('/usr/bin/monerod') ? undefined : '/usr/bin/monerod not found (apt-get install -y monero)',
  },
  {
    label: "Debian 13's monerod 0.18.4.0",
    image: 'monerod-under-test:debian-13',
    root: TRIXIE_ROOT,
    prefix: 'monnb',
    subnet: '10.213.42',
    missing: existsSync(join(TRIXIE_ROOT, '.complete'))
      ? undefined
      : `${TRIXIE_ROOT} not built (bash e2e/integration/build-monerod-trixie.sh, with MONERO_OPERATOR_CACHE as for the test)`,
  },
]

const skip = requireSetup('the network integration test', podRunnerUnavailable())
if (skip) t.plan(0, `skipped: ${skip}`)
else {
  for (const v of versions) {
    const why = requireSetup(`the network integration test with ${v.label}`, v.missing)
    if (why) t.test(v.label, { skip: why }, () => {})
    else t.test(v.label, (t) => scenario(t, v).catch((err: Error) => t.fail(err.message)))
  }
}

function render(replicas: number, image: string) {
  const network: KubeObject = {
    apiVersion: 'utxo.com.br/v1alpha1',
    kind: 'MoneroNetwork',
    metadata: { name: 'itest', namespace: NAMESPACE },
    spec: { replicas, template: { spec: { monerod: { image, args: ['--regtest', '--fixed-difficulty=1'] } } } },
  }
  const rendered = renderResource(network, { config: DEFAULT_CONFIG, now: '2026-11-26T00:00:00Z' })
  const sts = rendered.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  const services = rendered.children.filter((c) => c.kind === 'Service') as unknown as V1Service[]
  return { children: rendered.children, sts, services, configMaps: configMapsOf(rendered.children as never) }
}

/**
 * What the cluster's DNS answers, as hosts entries: a Service that selects one pod by name
 * resolves to that pod, and pods of a StatefulSet have `<pod>.<serviceName>` names.
 */
function dnsEntries(r: ReturnType<typeof render>, ipOf: (pod: string) => string | undefined) {
  const out: { ip: string; names: string[] }[] = []
  const forms = (n: string) => [n, `${n}.${NAMESPACE}`, `${n}.${NAMESPACE}.svc`, `${n}.${NAMESPACE}.svc.cluster.local`]
  const headless = r.sts.spec!.serviceName
  for (let i = 0; i < (r.sts.spec!.replicas ?? 1); i++) {
    const pod = `${r.sts.metadata!.name}-${i}`
    const ip = ipOf(pod)
    if (!ip) continue
    const names: string[] = []
    for (const s of r.services) if (s.spec?.selector?.[LABEL_POD_NAME] === pod) names.push(...forms(s.metadata!.name!))
    if (headless && r.services.some((s) => s.metadata?.name === headless)) names.push(...forms(`${pod}.${headless}`))
    out.push({ ip, names })
  }
  return out
}

/**
 * kubectl port-forward: a relay in the member's network namespace, reached through a unix
 * socket, so the test can call the loopback-only unrestricted RPC (generateblocks).
 */
async function portForward(host: PodNetHost, port: number, dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const sock = join(dir, `fwd-${host.ns}-${port}.sock`)
  const relay = `const net=require('net');net.createServer((c)=>{const u=net.connect(${port},'127.0.0.1');c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(process.argv[1],()=>console.log('ready'))`
  const proc: ChildProcess = spawn('ip', ['netns', 'exec', host.ns, process.execPath, '-e', relay, sock], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((ok, fail) => {
    proc.stdout!.once('data', () => ok())
    proc.once('exit', (code) => fail(new Error(`port-forward into ${host.ns} exited ${code}`)))
  })
  const server: Server = createServer((c) => {
    const u = createConnection(sock)
    c.pipe(u).pipe(c)
    c.on('error', () => u.destroy())
    u.on('error', () => c.destroy())
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const addr = server.address()
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
  return {
    url,
    close: async () => {
      await new Promise<void>((ok) => server.close(() => ok()))
      proc.kill('SIGKILL')
    },
  }
}

async function scenario(t: Test, v: Version): Promise<void> {
  const began = Date.now()
  const root = mkdtempSync(join(tmpdir(), `monero-network-${v.prefix}-`))
  const net = new PodNetwork(v.prefix, v.subnet)
  const pods: Pod[] = []
  const forwards: { close: () => Promise<void> }[] = []
  t.teardown(async () => {
    // Never hang here: whatever is left in the namespaces is killed by destroy() anyway.
    await Promise.race([Promise.all(pods.map((p) => p.kill().catch(() => undefined))), sleep(15_000)])
    await Promise.all(forwards.map((f) => f.close().catch(() => undefined)))
    net.destroy()
    rmSync(root, { recursive: true, force: true })
  })

  const images: Record<string, ImageSpec> = {
    // The operator image: node with the compiled repo as /app (Dockerfile: WORKDIR /app, USER 65532).
    [DEFAULT_CONFIG.operatorImage]: {
      root: '/',
      entrypoint: ['node'],
      workdir: '/app',
      user: { uid: 65532, gid: 65532 },
      env: { NODE_ENV: 'production', HOME: '/tmp' },
      binds: [{ src: REPO, dest: '/app' }],
    },
    [v.image]: { root: v.root, entrypoint: ['monerod'] },
  }

  const six = render(MEMBERS, v.image)
  const stsName = six.sts.metadata!.name!
  net.create()
  const hosts: PodNetHost[] = []
  for (let i = 0; i < MEMBERS; i++) hosts.push(net.addHost(i))
  const ipOf = (members: number) => (pod: string) => {
    const i = Number(pod.slice(stsName.length + 1))
    return i < members ? hosts[i]?.ip : undefined
  }
  for (const h of hosts) net.setHosts(h.ns, dnsEntries(six, ipOf(MEMBERS)), NAMESPACE)

  /** The StatefulSet's pod i from a rendering; its claims (PVCs) are kept across pods. */
  const newPod = (r: ReturnType<typeof render>, i: number, incarnation: number) =>
    new Pod({
      name: `${stsName}-${i}`,
      namespace: NAMESPACE,
      net: hosts[i]!,
      spec: r.sts.spec!.template.spec!,
      images,
      configMaps: r.configMaps,
      claims: Object.fromEntries(
        (r.sts.spec!.volumeClaimTemplates ?? []).map((c) => [c.metadata!.name!, join(root, 'pvc', `${c.metadata!.name}-${stsName}-${i}`)]),
      ),
      dir: join(root, 'pods', `${stsName}-${i}.${incarnation}`),
      maxGraceSeconds: 30,
    })
  for (let i = 0; i < MEMBERS; i++) pods.push(newPod(six, i, 1))
  const clients: MonerodClient[] = []
  const miners: MonerodClient[] = []
  for (const h of hosts) {
    const f = await portForward(h, 18081, root)
    forwards.push(f)
    clients.push(new MonerodClient({ url: f.url, timeoutMs: 10_000 }))
    miners.push(new MonerodClient({ url: f.url, timeoutMs: 180_000 }))
  }
  const miner = (i: number) => miners[i]!
  /** Members whose monerod was killed (once) after the scale-down. */
  const crashed = new Set<number>()

  /** The config file monerod was started with (`--config-file` of the rendered args), for failure messages. */
  const configFile = (i: number) => {
    const arg = pods[i]!.spec.containers.find((c) => c.name === 'monerod')?.args?.find((a) => a.startsWith('--config-file='))
    const path = arg && pods[i]!.hostPath('monerod', arg.slice('--config-file='.length))
    if (!path) return ''
    try {
      return `\nits ${arg.slice('--config-file='.length)}:\n${readFileSync(path, 'utf8')}`
    } catch (err) {
      return `\n(${String(err)})`
    }
  }
  /** A monerod that exited is a failure at once, with its output (a crash loop would never end). */
  const checkUp = (i: number, expectedExits = 0) => {
    const c = pods[i]!.container('monerod')
    if (c && c.exits.length > expectedExits) {
      const last = c.exits.at(-1)!
      throw new Fatal(
        `member ${i}: monerod exited (${last.code ?? last.signal}) instead of running; its last output:\n${pods[i]!.output('monerod', 3000)}${configFile(i)}`,
      )
    }
  }
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const r = await fn()
        if (r !== undefined) return r
      } catch (err) {
        if (err instanceof Fatal) throw err
        last = err
      }
      await sleep(1000)
    }
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}`)
  }
  const height = async (i: number) => {
    if (!crashed.has(i)) checkUp(i)
    return (await clients[i]!.getHeight()).height
  }

  const tStart = Date.now()
  const started = await Promise.all(pods.map((p) => p.start())).then(
    () => true,
    (err: Error) => {
      t.fail(`${MEMBERS} pods start: ${err.message}`)
      return false
    },
  )
  if (!started) return
  t.pass(`${MEMBERS} pods started (init containers done, sidecars up)`)
  t.comment(`pods started in ${Math.round((Date.now() - tStart) / 1000)} s`)
  t.ok(
    pods.every((p) => p.container('monerod')?.running),
    'every monerod container is running',
  )

  const everyone = [...Array(MEMBERS).keys()]
  // Ready as kubelet sees it: monerod's readiness probe (restricted RPC at the pod address).
  // Slow on a loaded machine: 0.18.0.0 spends many CPU seconds setting up each RPC server.
  const ready = async (i: number) => {
    checkUp(i)
    const c = pods[i]!.spec.containers.find((x) => x.name === 'monerod')!
    return c.readinessProbe ? pods[i]!.probeOnce(c, c.readinessProbe) : true
  }
  await waitFor('every member ready', async () => ((await Promise.all(everyone.map(ready))).every(Boolean) ? true : undefined), READY_MS)
  t.pass(`${MEMBERS} members ready after ${Math.round((Date.now() - tStart) / 1000)} s`)
  const counts = await waitFor(
    'every member to have a peer',
    async () => {
      for (const i of everyone) checkUp(i)
      const cs = await Promise.all(everyone.map(async (i) => (await clients[i]!.getConnections()).connections ?? []))
      return cs.every((c) => c.length > 0) ? cs : undefined
    },
    WAIT_MS,
  )
  const memberIps = new Set(hosts.map((h) => h.ip))
  for (const [i, cs] of counts.entries()) {
    const foreign = cs.filter((c) => !memberIps.has(c.address.slice(0, c.address.lastIndexOf(':'))))
    t.same(foreign, [], `member ${i}: all ${cs.length} connections are with members' own addresses (${cs.filter((c) => !c.incoming).length} dialled)`)
  }

  // One call, waited for long enough: a retried call would mine competing blocks.
  const mined = await waitFor(
    'generateblocks on member 0 (BUSY until synchronized)',
    async () => {
      try {
        return await miner(0).generateBlocks({ amount_of_blocks: 10, wallet_address: DONATION_ADDRESS })
      } catch (err) {
        if (err instanceof MonerodStatusError) return undefined
        throw new Fatal(String(err))
      }
    },
    WAIT_MS,
  )
  t.ok(mined.height !== undefined, `member 0 mined 10 blocks (generateblocks answered height ${mined.height})`)
  const target = await height(0)
  const tSync = Date.now()
  const heights = await waitFor(
    `all members at height ${target}`,
    async () => {
      const hs = await Promise.all(everyone.map(height))
      return hs.every((h) => h === target) ? hs : undefined
    },
    WAIT_MS,
  )
  t.same(
    heights,
    everyone.map(() => target),
    `all ${MEMBERS} members at ${target} after ${Math.round((Date.now() - tSync) / 1000)} s`,
  )

  // Every container of every member passes its readiness probe (pods Ready).
  for (const p of pods) {
    for (const c of p.spec.containers) {
      if (c.readinessProbe) t.ok(await p.probeOnce(c, c.readinessProbe), `${p.name}/${c.name}: readiness probe passes`)
    }
  }

  // ---- Scale down to 3: what the cluster does once the hook answers with replicas 3. The
  // pods and Services of members 3..5 go first; kubelet refreshes a ConfigMap volume only
  // up to a minute later, so a monerod may restart in between, with the old peer list.
  const three = render(SCALED, v.image)
  t.equal(three.sts.spec!.replicas, SCALED, 're-rendered with 3 replicas')
  await Promise.all(pods.slice(SCALED).map((p) => p.stop()))
  for (const h of hosts.slice(0, SCALED)) net.setHosts(h.ns, dnsEntries(three, ipOf(SCALED)), NAMESPACE)
  t.pass(`members ${SCALED}..${MEMBERS - 1} stopped, their Services gone from every member's DNS`)

  // ---- monerod of a surviving member crashes (kill -9): kubelet restarts that container only.
  const checkRestarted = (i: number) => {
    const c = pods[i]!.container('monerod')!
    if (c.exits.length > 1 || !c.running) {
      const last = c.exits.at(-1)!
      throw new Fatal(
        `member ${i}: monerod exited again after its restart (${last.code ?? last.signal}): crash loop; its output:\n${pods[i]!.output('monerod', 3000)}${configFile(i)}`,
      )
    }
  }
  const crash = async (i: number, when: string) => {
    const victim = pods[i]!
    const before = await height(i)
    const initStarts = new Map((victim.spec.initContainers ?? []).map((c) => [c.name, victim.container(c.name)?.starts]))
    const oldPid = victim.container('monerod')!.pid
    crashed.add(i)
    victim.signal('monerod', 'SIGKILL')
    await waitFor(
      `member ${i}: monerod to be restarted`,
      async () => {
        const c = victim.container('monerod')!
        return c.starts === 2 && c.pid !== undefined && c.pid !== oldPid ? true : undefined
      },
      30_000,
    )
    const tRestart = Date.now()
    const after = await waitFor(
      `member ${i} RPC after the restart`,
      async () => {
        checkRestarted(i)
        return (await clients[i]!.getHeight()).height
      },
      WAIT_MS,
    )
    t.equal(after, before, `member ${i}, killed ${when}: monerod restarted with its chain (height ${after}) in ${Math.round((Date.now() - tRestart) / 1000)} s`)
    for (const c of victim.spec.initContainers ?? []) {
      const state = victim.container(c.name)
      if (c.restartPolicy === 'Always')
        t.ok(state?.running && state.starts === initStarts.get(c.name), `member ${i}: sidecar ${c.name} kept running (${state?.starts} start)`)
      else t.equal(state?.starts, initStarts.get(c.name), `member ${i}: init container ${c.name} not run again (a container restart)`)
    }
  }
  await crash(1, 'before kubelet refreshed its peers ConfigMap')
  // kubelet's sync: the new peer list appears in the survivors' ConfigMap volumes.
  for (const p of pods.slice(0, SCALED)) for (const [name, data] of Object.entries(three.configMaps)) p.updateConfigMap(name, data)
  t.pass('peers ConfigMap of the survivors updated as kubelet does')
  await crash(2, 'after the ConfigMap update')

  const survivors = [...Array(SCALED).keys()]
  await miner(0).generateBlocks({ amount_of_blocks: 5, wallet_address: DONATION_ADDRESS })
  const target2 = await height(0)
  await waitFor(
    `members 0..${SCALED - 1} at height ${target2}`,
    async () => {
      crashed.forEach(checkRestarted)
      const hs = await Promise.all(survivors.map((i) => clients[i]!.getHeight().then((r) => r.height)))
      return hs.every((h) => h === target2) ? hs : undefined
    },
    WAIT_MS,
  )
  t.pass(`restarted members reconnected and follow blocks mined on member 0 (height ${target2})`)
  const survivorIps = new Set(hosts.slice(0, SCALED).map((h) => h.ip))
  for (const i of crashed) {
    const conns = (await clients[i]!.getConnections()).connections ?? []
    t.ok(
      conns.length > 0 && conns.every((c) => survivorIps.has(c.address.slice(0, c.address.lastIndexOf(':')))),
      `member ${i} connected to surviving members only: ${conns.map((c) => c.address).join(', ')}`,
    )
  }
  // Still up a while later: no abort on a gone member's entry.
  await sleep(10_000)
  for (const i of crashed) t.doesNotThrow(() => checkRestarted(i), `member ${i}: monerod still running 10 s later (1 restart, the kill)`)

  // The file monerod starts with names no gone member by now, in any form (name or address),
  // so the next restart starts with the current peer list.
  const gone = hosts.slice(SCALED).flatMap((h, k) => [h.ip, `${stsName}-${SCALED + k}`])
  const mentions = (i: number) => {
    const text = configFile(i)
    return gone.filter((g) =>
      text
        .split('\n')
        .some((l) => !l.trimStart().startsWith('#') && new RegExp(`[=@/]${g.replace(/\./g, '\\.')}[:\\s]|[=@/]${g.replace(/\./g, '\\.')}$`).test(l)),
    )
  }
  const left = await waitFor(
    "the survivors' monerod config to drop the gone members",
    async () => {
      const m = survivors.map(mentions)
      return m.every((x) => x.length === 0) ? m : undefined
    },
    WAIT_MS,
  ).catch((err: Error) => err.message + survivors.map(configFile).join(''))
  t.same(
    left,
    survivors.map(() => []),
    `members 0..${SCALED - 1}: monerod config lists no gone member`,
  )

  // ---- Scale up to 4: member 3 comes back (its Service first, its PVC kept); the members that
  // were there learn it once kubelet refreshes their peers ConfigMap.
  const four = render(SCALED + 1, v.image)
  const back = SCALED
  for (const h of hosts.slice(0, back + 1)) net.setHosts(h.ns, dnsEntries(four, ipOf(back + 1)), NAMESPACE)
  const returning = newPod(four, back, 2)
  pods.push(returning)
  for (const p of pods.slice(0, back)) for (const [name, data] of Object.entries(four.configMaps)) p.updateConfigMap(name, data)
  await returning.start()
  const learned = await waitFor(
    `members 0..${back - 1} to list member ${back} in their monerod config`,
    async () => {
      const ok = survivors.map((i) =>
        configFile(i)
          .split('\n')
          .some((l) => !l.trimStart().startsWith('#') && (l.includes(`=${hosts[back]!.ip}:`) || l.includes(`=${stsName}-${back}:`))),
      )
      return ok.every(Boolean) ? ok : undefined
    },
    WAIT_MS,
  ).catch((err: Error) => err.message + survivors.map(configFile).join(''))
  t.same(
    learned,
    survivors.map(() => true),
    `members 0..${back - 1} learned member ${back} (scale-up)`,
  )
  await waitFor(
    `member ${back} ready`,
    async () => {
      const c = returning.spec.containers.find((x) => x.name === 'monerod')!
      const exits = returning.container('monerod')?.exits.length ?? 0
      if (exits > 0) throw new Fatal(`member ${back}: monerod exited after the scale-up:\n${returning.output('monerod', 3000)}`)
      return (await returning.probeOnce(c, c.readinessProbe!)) ? true : undefined
    },
    READY_MS,
  )
  await miner(0).generateBlocks({ amount_of_blocks: 2, wallet_address: DONATION_ADDRESS })
  const target3 = await height(0)
  const all4 = [...survivors, back]
  // (the port-forward into member 3's namespace outlived its first pod, as the namespace did)
  await waitFor(
    `members 0..${back} at height ${target3}`,
    async () => {
      const hs = await Promise.all(all4.map((i) => clients[i]!.getHeight().then((r) => r.height)))
      return hs.every((h) => h === target3) ? hs : undefined
    },
    WAIT_MS,
  )
  t.pass(`member ${back} back (on its kept PVC); members 0..${back} at height ${target3}`)
  t.comment(`${v.label}: ${Math.round((Date.now() - began) / 1000)} s in all`)
}
