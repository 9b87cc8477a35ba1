// The status our hook computes survives a real apiserver untouched (written through the
// /status subresource, read back deep-equal: nothing pruned, observedGeneration kept), the
// scale subresource works as `kubectl scale` uses it, and `kubectl get` (the Table form)
// shows sensible printer-column values.
import t from 'tap'
import { handleSync, isHookError } from '../../hooks/handlers.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { syncRequest } from '../../hooks/testing/requests.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import {
  call,
  createObject,
  handlerForServedKind,
  installOurCrds,
  ensureNamespace,
  exampleObjects,
  HOOK_CTX,
  messageOf,
  OUR_API_VERSION,
  pathOf,
} from './kube.js'

type Json = Record<string, any>

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io'

if (binariesAvailable(t)) {
  t.test('status, scale and printer columns on a real apiserver', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)

    const examples = exampleObjects().filter((e) => e.object.apiVersion === OUR_API_VERSION)
    let index = 0
    for (const { file, object: written } of examples) {
      const ns = `status-${index++}`
      await t.test(`${file} (${written.kind}/${written.metadata.name})`, async (t) => {
        const handler = handlerForServedKind(t, written.kind, served)
        if (!handler) return
        await ensureNamespace(kc, ns)
        const created = await createObject(kc, written, ns)
        if (!t.equal(created.status, 201, `parent created${created.status === 201 ? '' : `: ${messageOf(created)}`}`)) return
        const parentPath = await pathOf(kc, written.apiVersion, written.kind, ns, written.metadata.name)
        let parent = created.body as Json
        const desired = parent.spec.replicas as number

        // Children as Metacontroller would have created them; the workload then reports
        // progress (no controller runs here, so its status is written by hand).
        const first = handleSync(handler, syncRequest(parent as KubeObject), HOOK_CTX)
        if (isHookError(first)) return t.fail(`hook refuses the parent: ${first.message}`)
        for (const child of (first as SyncResponse).children) {
          const res = await createObject(kc, child, ns)
          t.equal(res.status, 201, `child ${child.kind}/${child.metadata.name} created${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
        }
        const workload = (first as SyncResponse).children.find((c) => c.kind === 'StatefulSet' || c.kind === 'Deployment')
        if (!workload) return t.fail('no workload among the children')
        const workloadPath = await pathOf(kc, workload.apiVersion, workload.kind, ns, workload.metadata.name)
        const ready = Math.max(0, desired - 1)
        const wl = (await call(kc, 'GET', workloadPath)).body as Json
        const wlStatus = await call(kc, 'PUT', `${workloadPath}/status`, {
          ...wl,
          status: {
            observedGeneration: wl.metadata.generation,
            replicas: desired,
            readyReplicas: ready,
            updatedReplicas: desired,
            availableReplicas: ready,
            currentRevision: 'r1',
            updateRevision: 'r1',
          },
        })
        t.equal(wlStatus.status, 200, `workload status written${wlStatus.status === 200 ? '' : `: ${messageOf(wlStatus)}`}`)

        // Observed children read back from the apiserver, keyed namespace/name (v2).
        const observed: KubeObject[] = []
        for (const child of (first as SyncResponse).children) {
          const res = await call(kc, 'GET', await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name))
          if (res.status === 200) observed.push(res.body as KubeObject)
        }
        const result = handleSync(handler, syncRequest(parent as KubeObject, observed, 'v2'), HOOK_CTX)
        if (isHookError(result)) return t.fail(`hook refuses the parent with children: ${result.message}`)
        const status: Json = { ...(result as SyncResponse).status, observedGeneration: parent.metadata.generation as number }
        t.equal(status.replicas, desired, 'the hook read the observed workload (status.replicas)')

        // Write it through /status, as Metacontroller does, and read it back unchanged.
        const put = await call(kc, 'PUT', `${parentPath}/status?fieldValidation=Strict`, { ...parent, status })
        t.equal(put.status, 200, `status written${put.status === 200 ? '' : `: ${messageOf(put)}`}`)
        t.notOk(put.headers.warning, `no warnings${put.headers.warning ? `: ${String(put.headers.warning)}` : ''}`)
        parent = (await call(kc, 'GET', parentPath)).body as Json
        t.same(parent.status, status, 'status read back deep-equal to what the hook wrote (nothing pruned, observedGeneration kept)')
        t.equal(parent.status.observedGeneration, parent.metadata.generation, 'observedGeneration survives')

        // A second sync with the stored status is stable: same status, so no hot loop.
        const again = handleSync(handler, syncRequest(parent as KubeObject, observed, 'v2'), { ...HOOK_CTX, now: '2026-01-01T01:00:00Z' })
        if (!isHookError(again)) {
          t.same({ ...again.status, observedGeneration: parent.metadata.generation }, parent.status, 'resync with the stored status gives the same status')
        }

        // Scale subresource: GET as `kubectl scale` and an HPA read it.
        const scale = await call(kc, 'GET', `${parentPath}/scale`)
        t.equal(scale.status, 200, 'GET /scale')
        t.equal(scale.body.kind, 'Scale', 'a Scale object')
        t.equal(scale.body.spec.replicas, desired, '/scale spec.replicas = spec.replicas')
        t.equal(scale.body.status.replicas, status.replicas, '/scale status.replicas = status.replicas')
        t.equal(scale.body.status.selector, status.selector, '/scale status.selector = the selector the hook returned')

        // PUT /scale (kubectl scale --replicas=N) changes spec.replicas and nothing else.
        const target = desired + 2
        const scaled = await call(kc, 'PUT', `${parentPath}/scale`, { ...scale.body, spec: { replicas: target } })
        t.equal(scaled.status, 200, `PUT /scale${scaled.status === 200 ? '' : `: ${messageOf(scaled)}`}`)
        const after = (await call(kc, 'GET', parentPath)).body as Json
        t.equal(after.spec.replicas, target, 'spec.replicas follows the scale')
        t.equal(after.metadata.generation, parent.metadata.generation + 1, 'generation bumped by the spec change')
        t.same(after.status, status, 'status untouched by scaling')
        const { replicas: _a, ...specRest } = after.spec
        const { replicas: _b, ...specBefore } = parent.spec
        t.same(specRest, specBefore, 'the rest of the spec is untouched')
        const tooMany = await call(kc, 'PUT', `${parentPath}/scale`, { ...scaled.body, spec: { replicas: -1 } })
        t.equal(tooMany.status, 422, `PUT /scale with -1 is refused by the CRD schema (${tooMany.status})`)

        // Printer columns (kubectl get): the Table form.
        const table = await call(kc, 'GET', parentPath, undefined, { Accept: TABLE })
        t.equal(table.status, 200, 'GET as Table')
        const columns = (table.body.columnDefinitions as Json[]).map((c) => c.name as string)
        const cells = table.body.rows?.[0]?.cells as unknown[]
        const cell = (name: string) => cells[columns.indexOf(name)]
        t.equal(columns[0], 'Name', 'first column is Name')
        t.equal(cell('Name'), written.metadata.name, 'Name')
        t.equal(cell('Desired'), target, 'Desired = spec.replicas')
        t.equal(cell('Ready'), ready, 'Ready = status.readyReplicas')
        t.equal(cell('Up-to-date'), desired, 'Up-to-date = status.updatedReplicas')
        if (columns.includes('Current')) t.equal(cell('Current'), desired, 'Current = status.replicas')
        const readyCondition = (status.conditions as Json[] | undefined)?.find((c) => c.type === 'Ready')?.status
        t.ok(readyCondition, 'the hook wrote a Ready condition')
        t.equal(cell('Status'), readyCondition, 'Status = the Ready condition')
        if (columns.includes('Pool')) t.equal(cell('Pool'), status.pool ?? '', 'Pool = status.pool')
        if (columns.includes('Net')) t.equal(cell('Net'), status.nettype, 'Net = status.nettype')
        t.match(cell('Age'), /^\d+s$/, 'Age is a few seconds')
        for (const name of columns) t.not(cell(name), undefined, `column ${name} has a cell`)
      })
    }
  })
}
