// Runs every case of every health_test.yaml (Argo CD's format) through the real Lua
// interpreter, the way Argo CD runs health.lua: the object is the global `obj`.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { repoPath } from '../../hooks/paths.js'
import { DEFAULT_CONFIG } from '../../hooks/config.js'
import { findHandler, handleSync, isHookError, type HookError } from '../../hooks/handlers.js'
import type { SyncResponse } from '../../hooks/metacontroller.js'
import { asStored, loadExample, syncRequest } from '../../hooks/testing/requests.js'

// from the repository root, so that the compiled test (dist/charts/argocd) finds them too
const here = repoPath('charts', 'argocd')
const healthRoot = join(here, 'health')
const harness = join(here, 'harness.lua')
const LUA = process.env.LUA_BIN ?? 'lua5.4'

interface HealthCase {
  healthStatus: { status: string; message?: string }
  inputPath: string
}

function luaAvailable(): boolean {
  return spawnSync(LUA, ['-v'], { encoding: 'utf8' }).status === 0
}

/** status and message that health.lua returns for this object. */
function runHealth(script: string, object: unknown): { status: string; message: string } {
  const out = execFileSync(LUA, [harness, script], { input: JSON.stringify(object), encoding: 'utf8' })
  const [status = '', message = ''] = out.split('\n')
  return { status, message }
}

const dirs = readdirSync(healthRoot, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

t.test('one health check per kind with a status subresource in crds/', async (t) => {
  const crdDir = repoPath('crds')
  const expected = readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join(crdDir, f), 'utf8')) as { spec: { group: string; names: { kind: string } } })
    .map((crd) => `${crd.spec.group}_${crd.spec.names.kind}`)
  for (const name of expected) t.ok(dirs.includes(name), `charts/argocd/health/${name}/ exists`)
  // Kinds still being written (MoneroNetwork, MoneroMiningNodeSet) may have a health check
  // before their CRD lands; every directory must still be named <group>_<Kind>.
  for (const d of dirs) t.match(d, /^[a-z0-9.-]+_[A-Z][A-Za-z0-9]+$/, `${d} is named <group>_<Kind>`)
  t.ok(dirs.includes('utxo.com.br_MoneroNetwork') && dirs.includes('utxo.com.br_MoneroMiningNodeSet'), 'planned kinds covered')
})

t.test('every kind runs the same script', async (t) => {
  const scripts = dirs.map((d) => readFileSync(join(healthRoot, d, 'health.lua'), 'utf8'))
  for (let i = 1; i < scripts.length; i++) t.equal(scripts[i], scripts[0], `${dirs[i]}/health.lua equals ${dirs[0]}/health.lua`)
})

if (!luaAvailable()) {
  const msg = `${LUA} not found: apt-get install lua5.4 (or set LUA_BIN)`
  if (process.env.CI) t.fail(msg)
  else t.pass(msg, { skip: msg })
} else {
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const base = join(healthRoot, dir)
      const spec = parse(readFileSync(join(base, 'health_test.yaml'), 'utf8')) as { tests: HealthCase[] }
      t.ok(spec.tests.length >= 5, 'has cases for Healthy, Progressing and Degraded')
      t.same(new Set(spec.tests.map((c) => c.healthStatus.status)), new Set(['Healthy', 'Progressing', 'Degraded']), 'covers every status')
      for (const c of spec.tests) {
        const object = parse(readFileSync(join(base, c.inputPath), 'utf8'))
        const got = runHealth(join(base, 'health.lua'), object)
        t.equal(got.status, c.healthStatus.status, `${c.inputPath}: status`)
        if (c.healthStatus.message !== undefined) t.equal(got.message, c.healthStatus.message, `${c.inputPath}: message`)
      }
    })
  }

  t.test('odd statuses never crash the script', async (t) => {
    const script = join(healthRoot, dirs[0] as string, 'health.lua')
    const odd: [string, unknown, string][] = [
      ['empty object', {}, 'Progressing'],
      ['status null', { metadata: { generation: 1 }, status: null }, 'Progressing'],
      ['conditions not a list', { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: 'x' } }, 'Progressing'],
      ['conditions with junk', { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [1, 'a', { type: 'Ready' }] } }, 'Progressing'],
      ['no generation, Ready', { metadata: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'Healthy'],
      [
        'Ready without message',
        { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'AllReplicasReady' }] } },
        'Healthy',
      ],
      [
        'Degraded wins over Ready',
        {
          metadata: { generation: 2 },
          status: {
            observedGeneration: 2,
            conditions: [
              { type: 'Ready', status: 'True' },
              { type: 'Degraded', status: 'True', message: 'x' },
            ],
          },
        },
        'Degraded',
      ],
      [
        'stale Degraded condition',
        { metadata: { generation: 3 }, status: { observedGeneration: 3, conditions: [{ type: 'Degraded', status: 'True', observedGeneration: 2 }] } },
        'Progressing',
      ],
      [
        'observedGeneration ahead',
        { metadata: { generation: 1 }, status: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] } },
        'Healthy',
      ],
      [
        'stale Synced=False',
        {
          metadata: { generation: 3 },
          status: {
            observedGeneration: 3,
            conditions: [
              { type: 'Ready', status: 'True' },
              { type: 'Synced', status: 'False', reason: 'InvalidSpec', observedGeneration: 2 },
            ],
          },
        },
        'Healthy',
      ],
      [
        'Synced=False without reason or message',
        { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Synced', status: 'False' }] } },
        'Degraded',
      ],
    ]
    for (const [name, object, status] of odd) {
      const got = runHealth(script, object)
      t.equal(got.status, status, name)
      t.not(got.message, '', `${name}: has a message`)
    }
  })

  t.test('what the hook answers for a refused spec is Degraded with the reason and message', async (t) => {
    const script = join(healthRoot, 'utxo.com.br_MoneroNodeSet', 'health.lua')
    const handler = findHandler('MoneroNodeSet')!
    const parent = asStored(loadExample('moneronodeset.yaml'), { generation: 4 })
    const ctx = { config: DEFAULT_CONFIG, now: '2026-11-26T12:00:00Z' }
    const asStatus = (r: SyncResponse | HookError) => {
      if (isHookError(r)) throw new Error(r.message)
      // Metacontroller adds observedGeneration to the status the hook answers
      return { ...parent, status: { ...r.status, observedGeneration: 4 } }
    }
    const refused = { ...parent, spec: { ...(parent.spec as object), monerod: { args: ['--test'] } } }
    const got = runHealth(script, asStatus(handleSync(handler, syncRequest(refused), ctx)))
    t.equal(got.status, 'Degraded')
    t.match(got.message, /^InvalidSpec: spec\.monerod\.args\[0\]: .*ambiguous/)
    const accepted = runHealth(script, asStatus(handleSync(handler, syncRequest(parent), ctx)))
    t.equal(accepted.status, 'Progressing', 'an accepted new resource is coming up, not Degraded')
  })
}
