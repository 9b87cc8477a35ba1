// The CI stand-in for Metacontroller (e2e/metacontroller/driver.ts) on a real apiserver, with
// our hook server listening in-process: children and status appear, a deleted child comes
// back, an edit updates the StatefulSet, a child dropped from the answer is deleted, a hook
// outage changes nothing and records SyncError, and idle resyncs of every example cause no
// child update (issue 13 §2). No controller manager runs: no garbage collection, no pods.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../../hooks/server.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { repoPath } from '../../hooks/paths.js'
import { startDriver, readControllers, type CompositeController, type Driver } from '../metacontroller/driver.js'
import { LAST_APPLIED_ANNOTATION as LAST_APPLIED } from '../metacontroller/apply.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import { call, createObject, ensureNamespace, exampleObjects, HOOK_CTX, installOurCrds, messageOf, OUR_API_VERSION, pathOf } from './kube.js'
import { yamlFilesIn } from './manifests.js'

type Json = Record<string, any>

const TOKEN = 'driver-test-token-0123456789abcdef'
const RESYNC_SECONDS = 2

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Our CompositeControllers with webhook authorization, as the chart renders them with hookAuth on. */
function controllersWithAuth(): CompositeController[] {
  const files = yamlFilesIn(repoPath('metacontroller')).filter((f) => !f.endsWith('kustomization.yaml'))
  return readControllers(...files).map((cc) => {
    const copy = structuredClone(cc)
    for (const hook of [copy.spec.hooks.sync, copy.spec.hooks.customize]) {
      if (hook) hook.webhook.authorization = { type: 'Bearer', secretRef: { name: 'hook-token', namespace: 'monero-operator', key: 'token' } }
    }
    return copy
  })
}

async function listen(app: FastifyInstance, port = 0): Promise<number> {
  await app.listen({ host: '127.0.0.1', port })
  return (app.server.address() as AddressInfo).port
}

if (binariesAvailable(t)) {
  t.test('the CI Metacontroller driver on a real apiserver', async (t) => {
    const started = Date.now()
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)
    t.ok(served.has('MoneroNodeSet'), 'MoneroNodeSet CRD served')

    await ensureNamespace(kc, 'monero-operator')
    const secret = await call(kc, 'POST', '/api/v1/namespaces/monero-operator/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-token' },
      stringData: { token: TOKEN },
    })
    t.equal(secret.status, 201, 'hook token Secret created')

    let server = buildServer({ config: HOOK_CTX.config, bearerToken: TOKEN })
    const port = await listen(server)
    t.teardown(() => server.close())

    const lines: string[] = []
    const driver: Driver = await startDriver({
      kubeConfig: kc,
      controllers: controllersWithAuth(),
      hookAccess: { kind: 'url', base: `http://127.0.0.1:${port}` },
      resyncPeriodSeconds: RESYNC_SECONDS,
      backoffMaxMs: 1000,
      log: (m) => lines.push(m),
    })
    t.teardown(() => driver.stop())
    t.comment(`control plane, CRDs, hook server and driver up in ${Date.now() - started} ms`)

    const nodeSet = exampleObjects().find((e) => e.object.kind === 'MoneroNodeSet' && e.file === 'moneronodeset.yaml')!.object
    const ns = 'driver'
    await ensureNamespace(kc, ns)
    const parentPath = await pathOf(kc, OUR_API_VERSION, 'MoneroNodeSet', ns, nodeSet.metadata.name)
    const workload = `${nodeSet.metadata.name}-monerod`
    const stsPath = await pathOf(kc, 'apps/v1', 'StatefulSet', ns, workload)
    const pdbPath = await pathOf(kc, 'policy/v1', 'PodDisruptionBudget', ns, workload)

    await t.test('a MoneroNodeSet gets its children and its status', async (t) => {
      const created = await createObject(kc, nodeSet, ns)
      t.equal(created.status, 201, `parent created${created.status === 201 ? '' : `: ${messageOf(created)}`}`)
      const uid = created.body.metadata.uid as string
      const parent = await waitFor('status.observedGeneration', async () => {
        const p = (await call(kc, 'GET', parentPath)).body as Json
        return p.status?.observedGeneration === p.metadata.generation && p
      })
      t.equal(parent.status.observedGeneration, 1, 'status written through /status with observedGeneration')
      t.ok(
        (parent.status.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready'),
        'status computed by the hook (a Ready condition)',
      )
      await driver.idle()
      for (const [group, plural] of [
        ['apps/v1', 'statefulsets'],
        ['v1', 'services'],
        ['policy/v1', 'poddisruptionbudgets'],
      ] as const) {
        const base = group === 'v1' ? `/api/v1/namespaces/${ns}/${plural}` : `/apis/${group}/namespaces/${ns}/${plural}`
        const items = (await call(kc, 'GET', base)).body.items as KubeObject[]
        t.ok(items.length > 0, `${plural} created`)
        for (const child of items) {
          const ref = (child.metadata.ownerReferences as Json[] | undefined)?.[0]
          t.match(
            ref,
            { kind: 'MoneroNodeSet', name: nodeSet.metadata.name, uid, controller: true, blockOwnerDeletion: true },
            `${plural}/${child.metadata.name}: controller ownerReference`,
          )
          t.equal(child.metadata.labels?.['controller-uid'], uid, `${plural}/${child.metadata.name}: controller-uid label (generateSelector)`)
          const applied = JSON.parse(child.metadata.annotations?.[LAST_APPLIED] ?? 'null')
          t.equal(applied?.metadata?.name, child.metadata.name, `${plural}/${child.metadata.name}: last-applied annotation holds what the hook sent`)
        }
      }
      t.equal(driver.stats.errors.size, 0, `no sync errors${driver.stats.errors.size ? `: ${[...driver.stats.lastError.values()].join('; ')}` : ''}`)
    })

    await t.test('a deleted child comes back', async (t) => {
      const before = (await call(kc, 'GET', stsPath)).body as Json
      const del = await call(kc, 'DELETE', stsPath)
      t.equal(del.status, 200, 'StatefulSet deleted')
      const after = await waitFor('the StatefulSet to come back', async () => {
        const res = await call(kc, 'GET', stsPath)
        return res.status === 200 && res.body.metadata.uid !== before.metadata.uid && (res.body as Json)
      })
      t.not(after.metadata.uid, before.metadata.uid, 'recreated (new uid)')
      t.same(after.spec.template.spec.containers[0].args, before.spec.template.spec.containers[0].args, 'with the same monerod args')
    })

    await t.test('an edit of the parent updates the StatefulSet in place', async (t) => {
      await driver.idle()
      const before = (await call(kc, 'GET', stsPath)).body as Json
      const updatesBefore = driver.updateCount()
      const args = [...(nodeSet.spec as Json).monerod.args.filter((a: string) => !a.startsWith('--out-peers')), '--out-peers=64']
      const patch = await call(kc, 'PATCH', parentPath, { spec: { monerod: { args } } }, { 'Content-Type': 'application/merge-patch+json' })
      t.equal(patch.status, 200, `parent patched${patch.status === 200 ? '' : `: ${messageOf(patch)}`}`)
      const after = await waitFor('the StatefulSet to carry the new args', async () => {
        const sts = (await call(kc, 'GET', stsPath)).body as Json
        return JSON.stringify(sts.spec.template.spec.containers).includes('out-peers=64') && sts
      })
      t.equal(after.metadata.uid, before.metadata.uid, 'same object (updated, not recreated)')
      t.not(after.metadata.resourceVersion, before.metadata.resourceVersion, 'a new resourceVersion')
      t.notOk(JSON.stringify(after.spec.template.spec.containers).includes('out-peers=1024'), 'the old value is gone')
      const sts = driver.stats.updates.slice(updatesBefore).filter((u) => u.child === `StatefulSet ${ns}/${workload}`)
      t.ok(sts.length >= 1, 'the driver counted the StatefulSet update')
      await waitFor('observedGeneration 2', async () => ((await call(kc, 'GET', parentPath)).body as Json).status?.observedGeneration === 2)
    })

    await t.test('a child missing from the answer is deleted', async (t) => {
      t.equal((await call(kc, 'GET', pdbPath)).status, 200, 'the PDB exists with 3 replicas')
      const patch = await call(kc, 'PATCH', parentPath, { spec: { replicas: 1 } }, { 'Content-Type': 'application/merge-patch+json' })
      t.equal(patch.status, 200, 'scaled to 1 (the hook sends no PDB for one replica)')
      await waitFor('the PDB to be deleted', async () => (await call(kc, 'GET', pdbPath)).status === 404)
      t.ok(driver.stats.deletes.includes(`PodDisruptionBudget ${ns}/${workload}`), 'deleted by the driver')
      t.equal((await call(kc, 'GET', stsPath)).status, 200, 'the StatefulSet stays')
      await driver.idle()
      t.equal(driver.stats.errors.size, 0, `no sync error so far${driver.stats.errors.size ? `: ${[...driver.stats.lastError].join('; ')}` : ''}`)
    })

    await t.test('a hook outage changes nothing and records SyncError', async (t) => {
      await driver.idle()
      const list = async () => {
        const out: string[] = []
        for (const base of [
          `/apis/apps/v1/namespaces/${ns}/statefulsets`,
          `/api/v1/namespaces/${ns}/services`,
          `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
        ]) {
          for (const o of (await call(kc, 'GET', base)).body.items as KubeObject[])
            out.push(`${o.kind ?? base} ${o.metadata.name} ${o.metadata.resourceVersion}`)
        }
        return out.sort()
      }
      const before = await list()
      const statusBefore = ((await call(kc, 'GET', parentPath)).body as Json).status
      await server.close()
      const patch = await call(kc, 'PATCH', parentPath, { spec: { replicas: 2 } }, { 'Content-Type': 'application/merge-patch+json' })
      t.equal(patch.status, 200, 'parent scaled to 2 while the hook server is down')
      const event = await waitFor('a SyncError event', async () => {
        const evs = (await call(kc, 'GET', `/api/v1/namespaces/${ns}/events`)).body.items as Json[]
        return evs.find(
          (e) => e.reason === 'SyncError' && e.involvedObject.name === nodeSet.metadata.name && e.type === 'Warning' && /sync hook failed/.test(e.message),
        )
      })
      t.match(event.message, /^Sync error: sync hook failed: /, `event message: ${event.message}`)
      await new Promise((r) => setTimeout(r, 3000))
      t.same(await list(), before, 'no child created, changed or deleted during the outage')
      t.same(((await call(kc, 'GET', parentPath)).body as Json).status, statusBefore, 'status untouched')
      const evs = (await call(kc, 'GET', `/api/v1/namespaces/${ns}/events`)).body.items as Json[]
      const repeats = evs.filter((e) => e.reason === 'SyncError').reduce((n, e) => n + (e.count ?? 1), 0)
      t.ok(repeats >= 2, `retried with backoff (${repeats} SyncError occurrences in 3 s)`)

      server = buildServer({ config: HOOK_CTX.config, bearerToken: TOKEN })
      await listen(server, port)
      await waitFor('the PDB back for 2 replicas', async () => (await call(kc, 'GET', pdbPath)).status === 200, 30_000)
      const sts = (await call(kc, 'GET', stsPath)).body as Json
      t.equal(sts.spec.replicas, 2, 'after the outage the pending edit is applied')
    })

    await t.test('customize: the Secret named in keysSecretName reaches the sync hook as a related object', async (t) => {
      const tor = (name: string, keysSecretName?: string) => ({
        apiVersion: OUR_API_VERSION,
        kind: 'MoneroNodeSet',
        metadata: { name },
        spec: { replicas: 1, tor: { enabled: true, ...(keysSecretName ? { keysSecretName } : {}) } },
      })
      // A donor whose keys the hook derives; its Secret then becomes the user's Secret of another.
      t.equal((await createObject(kc, tor('donor') as KubeObject, ns)).status, 201, 'donor created')
      const donorPath = await pathOf(kc, OUR_API_VERSION, 'MoneroNodeSet', ns, 'donor')
      const donor = await waitFor('donor status.hiddenServices', async () => {
        const p = (await call(kc, 'GET', donorPath)).body as Json
        return p.status?.hiddenServices?.[0]?.onion && p
      })
      t.equal((await createObject(kc, tor('keyed', 'my-tor-keys') as KubeObject, ns)).status, 201, 'a resource naming a Secret that does not exist yet')
      const keyedPath = await pathOf(kc, OUR_API_VERSION, 'MoneroNodeSet', ns, 'keyed')
      // The hook refuses the spec (no related Secret) and says so on the resource: Synced=False.
      const refused = await waitFor('Synced=False naming the missing Secret', async () => {
        const p = (await call(kc, 'GET', keyedPath)).body as Json
        return (p.status?.conditions as Json[] | undefined)?.find((c) => c.type === 'Synced' && c.status === 'False')
      })
      t.equal(refused.reason, 'KeysSecretInvalid', 'reason KeysSecretInvalid')
      t.match(refused.message, /my-tor-keys/, `the hook saw no related Secret: ${refused.message}`)
      const donorSecret = (await call(kc, 'GET', `/api/v1/namespaces/${ns}/secrets/donor-monerod-hidden-services`)).body as Json
      const key = donorSecret.data?.['0.hs_ed25519_secret_key']
      t.ok(key, "the donor's tor key")
      const created = await call(kc, 'POST', `/api/v1/namespaces/${ns}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'my-tor-keys' },
        data: { '0.hs_ed25519_secret_key': key },
      })
      t.equal(created.status, 201, 'the user creates the Secret')
      const keyed = await waitFor(
        'keyed status.hiddenServices',
        async () => {
          const p = (await call(kc, 'GET', keyedPath)).body as Json
          return p.status?.hiddenServices?.[0]?.onion && p
        },
        30_000,
      )
      t.equal(keyed.status.hiddenServices[0].onion, donor.status.hiddenServices[0].onion, "the address comes from the user's Secret (sent in related)")
      await driver.idle()
    })

    await t.test('idle resyncs of every example update no child', async (t) => {
      const errorsBefore = [...driver.stats.errors.values()].reduce((a, b) => a + b, 0)
      const examples = exampleObjects().filter((e) => e.object.apiVersion === OUR_API_VERSION && served.has(e.object.kind))
      let i = 0
      const parents: string[] = []
      for (const { file, object } of examples) {
        const exNs = `idle-${i++}`
        await ensureNamespace(kc, exNs)
        const res = await createObject(kc, object, exNs)
        t.equal(res.status, 201, `${file}: ${object.kind}/${object.metadata.name} created${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
        parents.push(`${object.kind} ${exNs}/${object.metadata.name}`)
      }
      for (const p of parents) {
        const [kind, key] = p.split(' ') as [string, string]
        const [exNs, name] = key.split('/') as [string, string]
        const path = await pathOf(kc, OUR_API_VERSION, kind, exNs, name)
        await waitFor(`${p}: status written`, async () => ((await call(kc, 'GET', path)).body as Json).status?.observedGeneration === 1)
      }
      // Let creation settle (first syncs may legitimately update what was just created).
      await driver.idle()
      await new Promise((r) => setTimeout(r, RESYNC_SECONDS * 1000))
      await driver.idle()
      const from = driver.updateCount()
      const syncsBefore = new Map(parents.map((p) => [p, driver.stats.syncs.get(p) ?? 0]))
      const periods = 3
      await new Promise((r) => setTimeout(r, periods * RESYNC_SECONDS * 1000 + 500))
      await driver.idle()
      for (const p of parents) {
        const n = (driver.stats.syncs.get(p) ?? 0) - (syncsBefore.get(p) ?? 0)
        t.ok(n >= periods, `${p}: ${n} resyncs in the window`)
        const updates = driver.stats.updates.slice(from).filter((u) => u.parent === p)
        const children = [...new Set(updates.map((u) => `${u.child} (${u.diff.join('; ')})`))]
        t.equal(updates.length, 0, `${p}: no child updated during idle resyncs${children.length ? `; updated: ${children.join(' | ')}` : ''}`)
      }
      const errors = [...driver.stats.errors.values()].reduce((a, b) => a + b, 0) - errorsBefore
      t.equal(errors, 0, `no sync errors${errors ? `: ${[...driver.stats.lastError].join('; ')}` : ''}`)
    })
    for (const l of lines.filter((l) => /error/i.test(l)).slice(0, 20)) t.comment(`driver: ${l}`)
    if (process.env.DRIVER_TEST_LOG) for (const l of lines) t.comment(`driver: ${l.slice(0, 400)}`)
    t.comment(`driver log: ${lines.length} lines; "Updating" lines: ${lines.filter((l) => l.includes('Updating')).length}`)
  })
}
