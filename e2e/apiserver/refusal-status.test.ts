// A spec the apiserver accepts but the hook refuses, on a real apiserver: the children
// created as Metacontroller creates them (with its last-applied annotation) are answered
// exactly as they were, and applying that answer by Metacontroller's rule stores nothing new
// (same resourceVersion); the status with Synced=False passes the real CRD schema through
// /status and `kubectl get` shows it. Also: `kubectl apply -f crds/` exits 0.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { handleSync, isHookError, LAST_APPLIED_ANNOTATION } from '../../hooks/handlers.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { repoPath } from '../../hooks/paths.js'
import { applyDesired, forCreate, goJson, toJson } from '../metacontroller/apply.js'
import { syncRequest } from '../../hooks/testing/requests.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import {
  call,
  createObject,
  ensureNamespace,
  exampleObjects,
  handlerForServedKind,
  HOOK_CTX,
  installOurCrds,
  messageOf,
  OUR_API_VERSION,
  pathOf,
} from './kube.js'

type Json = Record<string, any>

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io'

/** A later edit the apiserver accepts and the hook refuses, per kind. */
const REFUSED_EDIT: Record<string, { spec: (spec: Json) => Json; reason: string; message: RegExp }> = {
  MoneroNodeSet: {
    spec: (s) => ({ ...s, monerod: { ...s.monerod, args: ['--test'] } }),
    reason: 'InvalidSpec',
    message: /^spec\.monerod\.args\[0\]: .*ambiguous/,
  },
  MoneroNetwork: {
    spec: (s) => ({ ...s, template: { ...s.template, spec: { ...s.template.spec, tor: { enabled: true, keysSecretName: 'not-there' } } } }),
    reason: 'KeysSecretInvalid',
    message: /^spec\.template\.spec\.tor\.keysSecretName: Secret not-there not found/,
  },
  MoneroMiningNodeSet: {
    spec: (s) => ({ ...s, xmrig: { ...s.xmrig, args: [...(s.xmrig?.args ?? []), '--rig-id=$(RIG)'] } }),
    reason: 'InvalidSpec',
    message: /\$\(RIG\) is not defined/,
  },
}

if (binariesAvailable(t)) {
  t.test('a refused spec on a real apiserver: children unchanged, Synced=False stored and shown', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig

    // The README's commands, as written (a kustomization.yaml in crds/ made them exit 1).
    for (const args of [
      ['apply', '-f'],
      ['apply', '--server-side', '-f'],
    ]) {
      const kubectl = spawnSync('kubectl', ['--kubeconfig', cp.kubeconfigPath, ...args, repoPath('crds')], { encoding: 'utf8' })
      if (kubectl.error) t.fail(`kubectl: ${kubectl.error.message}`)
      else t.equal(kubectl.status, 0, `kubectl ${args.join(' ')} crds/ exits 0${kubectl.status === 0 ? '' : `: ${kubectl.stderr}`}`)
    }
    const served = await installOurCrds(t, kc)

    const seen = new Set<string>()
    let index = 0
    for (const { file, object: written } of exampleObjects()) {
      if (written.apiVersion !== OUR_API_VERSION || seen.has(written.kind)) continue
      seen.add(written.kind)
      const edit = REFUSED_EDIT[written.kind]
      const ns = `refusal-${index++}`
      await t.test(`${file} (${written.kind})`, async (t) => {
        if (!edit) return t.fail(`no refused edit for ${written.kind}`)
        const handler = handlerForServedKind(t, written.kind, served)
        if (!handler) return
        await ensureNamespace(kc, ns)
        const created = await createObject(kc, written, ns)
        if (!t.equal(created.status, 201, `parent created${created.status === 201 ? '' : `: ${messageOf(created)}`}`)) return
        const parentPath = await pathOf(kc, written.apiVersion, written.kind, ns, written.metadata.name)
        let parent = created.body as Json

        // Children as Metacontroller creates them: last-applied = the desired object, then the owner.
        const first = handleSync(handler, syncRequest(parent as KubeObject), HOOK_CTX)
        if (isHookError(first)) return t.fail(`hook refuses the example: ${first.message}`)
        for (const child of first.children) {
          const annotated = forCreate(child, parent as KubeObject) as unknown as KubeObject
          const res = await createObject(kc, annotated, ns, { strict: false })
          t.equal(res.status, 201, `child ${child.kind}/${child.metadata.name} created${res.status === 201 ? '' : `: ${messageOf(res)}`}`)
        }
        const readChildren = async () => {
          const out: KubeObject[] = []
          for (const child of first.children) {
            const res = await call(kc, 'GET', await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name))
            if (res.status === 200) out.push(res.body as KubeObject)
          }
          return out
        }
        const observed = await readChildren()
        t.equal(observed.length, first.children.length, 'every child stored')

        // The accepted status first, as Metacontroller would store it.
        const ok = handleSync(handler, syncRequest(parent as KubeObject, observed), HOOK_CTX) as SyncResponse
        let put = await call(kc, 'PUT', `${parentPath}/status`, { ...parent, status: { ...ok.status, observedGeneration: parent.metadata.generation } })
        t.equal(put.status, 200, `accepted status written${put.status === 200 ? '' : `: ${messageOf(put)}`}`)
        parent = put.body as Json

        // The user edits the spec: the apiserver accepts it, the hook refuses it.
        const edited = await call(kc, 'PUT', `${parentPath}?fieldValidation=Strict`, { ...parent, spec: edit.spec(parent.spec) })
        if (!t.equal(edited.status, 200, `the apiserver accepts the edit${edited.status === 200 ? '' : `: ${messageOf(edited)}`}`)) return
        parent = edited.body as Json
        const refused = handleSync(handler, syncRequest(parent as KubeObject, observed), { ...HOOK_CTX, now: '2026-01-01T02:00:00Z' })
        if (isHookError(refused)) return t.fail(`a 4xx instead of the refusal answer: ${refused.message}`)
        t.equal(refused.children.length, observed.length, 'as many children as observed')

        // Metacontroller applies the answer: nothing changes on the apiserver.
        for (const child of observed) {
          const answer = refused.children.find((c) => c.kind === child.kind && c.metadata.name === child.metadata.name)
          if (!t.ok(answer, `${child.kind}/${child.metadata.name} answered`)) continue
          t.equal(
            goJson(toJson(answer)),
            goJson(toJson(JSON.parse(child.metadata.annotations![LAST_APPLIED_ANNOTATION]!))),
            `${child.kind}/${child.metadata.name}: exactly as last applied`,
          )
          const { merged: update, changed } = applyDesired(child, answer!)
          if (!changed) continue // no PUT at all
          // Where the apiserver normalizes what it stores (section 2), Metacontroller PUTs:
          // that PUT must store nothing new.
          const path = await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name)
          // the field manager that created it, as Metacontroller creates and updates with one
          const res = await call(kc, 'PUT', `${path}?fieldManager=apiserver-tests`, update)
          t.equal(res.status, 200, `${child.kind}/${child.metadata.name}: PUT of the merge${res.status === 200 ? '' : `: ${messageOf(res)}`}`)
          t.equal(
            res.body?.metadata?.resourceVersion,
            child.metadata.resourceVersion,
            `${child.kind}/${child.metadata.name}: same resourceVersion (nothing stored)`,
          )
        }
        const after = await readChildren()
        t.same(
          after.map((c) => goJson(toJson(c))),
          observed.map((c) => goJson(toJson(c))),
          'every child byte for byte as before',
        )

        // The status with Synced=False passes the real schema via /status, unchanged.
        const status = { ...refused.status, observedGeneration: parent.metadata.generation }
        const synced = (refused.status.conditions as Json[]).find((c) => c.type === 'Synced')
        t.match(synced, { status: 'False', reason: edit.reason, message: edit.message, observedGeneration: parent.metadata.generation })
        put = await call(kc, 'PUT', `${parentPath}/status?fieldValidation=Strict`, { ...parent, status })
        t.equal(put.status, 200, `status written${put.status === 200 ? '' : `: ${messageOf(put)}`}`)
        t.notOk(put.headers.warning, `no warnings${put.headers.warning ? `: ${String(put.headers.warning)}` : ''}`)
        parent = (await call(kc, 'GET', parentPath)).body as Json
        t.same(parent.status, status, 'read back deep-equal: nothing pruned')

        // Resync with the stored status: the same answer (no hot loop).
        const again = handleSync(handler, syncRequest(parent as KubeObject, observed), { ...HOOK_CTX, now: '2026-01-01T03:00:00Z' }) as SyncResponse
        t.same({ ...again.status, observedGeneration: parent.metadata.generation }, parent.status, 'resync: same status')

        // kubectl get (Table): Synced and Reason; Message is a -o wide column.
        const table = await call(kc, 'GET', parentPath, undefined, { Accept: TABLE })
        t.equal(table.status, 200, 'GET as Table')
        const defs = table.body.columnDefinitions as Json[]
        const cells = table.body.rows?.[0]?.cells as unknown[]
        const cell = (name: string) => cells[defs.findIndex((c) => c.name === name)]
        t.equal(cell('Synced'), 'False', 'Synced column')
        t.equal(cell('Reason'), edit.reason, 'Reason column')
        t.match(cell('Message'), edit.message, 'Message column')
        t.equal(defs.find((c) => c.name === 'Message')?.priority, 1, 'Message only with -o wide')
      })
    }
    t.equal(seen.size, 3, 'every kind tried')
  })
}
