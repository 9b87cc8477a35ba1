/** The `render` CLI, run as a user runs it (compiled, as `npm run cli` does). */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { parseAllDocuments } from 'yaml'
import { repoPath } from './paths.js'

const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [repoPath('dist', 'hooks', 'cli.js'), ...args], { encoding: 'utf8', input, cwd: repoPath() })

t.test('render prints the children of each resource as multi-document YAML', async (t) => {
  const r = cli(['render', 'examples/moneronodeset.yaml', 'examples/moneronetwork-regtest.yaml'])
  t.equal(r.status, 0, r.stderr)
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } })
  t.ok(docs.some((d) => d.kind === 'StatefulSet' && d.metadata.name === 'nodes-monerod'))
  t.ok(docs.some((d) => d.kind === 'StatefulSet' && d.metadata.name === 'regtest-peer'))
  t.notOk(docs.some((d) => d.kind === 'MoneroNodeSet'), 'no status without --status')
})

t.test('render - reads stdin; --status adds the status', async (t) => {
  const input = 'apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: one}\nspec: {replicas: 1}\n'
  const r = cli(['render', '--status', '-'], input)
  t.equal(r.status, 0, r.stderr)
  const status = parseAllDocuments(r.stdout).map((d) => d.toJS()).find((d: { kind: string }) => d.kind === 'MoneroNodeSet')
  t.equal(status.status.selector, 'app.kubernetes.io/instance=one,app.kubernetes.io/name=monerod,app.kubernetes.io/part-of=moneronodeset')
})

t.test('invalid input: non-zero exit and a message naming the field', async (t) => {
  const cases: [string, RegExp][] = [
    ['apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: x}\nspec: {replicas: -1}\n', /spec\.replicas: must be >= 0/],
    ['apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: x}\nspec: {monerod: {args: [--rpc-bind-ip=0.0.0.0]}}\n', /spec\.monerod\.args\[0\]: --rpc-bind-ip cannot be set/],
    ['apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeset\nmetadata: {name: x}\nspec: {}\n', /kind "MoneroNodeset" is not one of ours/],
    ['kind: [unclosed\n', /stdin: document 1/],
  ]
  for (const [input, message] of cases) {
    const r = cli(['render', '-'], input)
    t.not(r.status, 0)
    t.match(r.stderr, message)
    t.equal(r.stdout, '', 'nothing on stdout')
  }
  const missing = cli(['render', 'no-such-file.yaml'])
  t.not(missing.status, 0)
  t.match(missing.stderr, /no-such-file\.yaml/)
})

t.test('objects of other API groups in the same files are skipped with a note', async (t) => {
  const r = cli(['render', 'examples/monerominingnodeset.yaml', 'examples/hpa-miners.yaml'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /skipped HorizontalPodAutoscaler/)
  t.match(r.stdout, /name: miners-xmrig/)
})
