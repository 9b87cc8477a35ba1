/** The `render` CLI, run as a user runs it (compiled, as `npm run cli` does). */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
  t.notOk(
    docs.some((d) => d.kind === 'MoneroNodeSet'),
    'no status without --status',
  )
})

t.test('render - reads stdin; --status adds the status', async (t) => {
  const input = 'apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: one}\nspec: {replicas: 1}\n'
  const r = cli(['render', '--status', '-'], input)
  t.equal(r.status, 0, r.stderr)
  const status = parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .find((d: { kind: string }) => d.kind === 'MoneroNodeSet')
  t.equal(status.status.selector, 'app.kubernetes.io/instance=one,app.kubernetes.io/name=monerod,app.kubernetes.io/part-of=moneronodeset')
})

t.test('invalid input: non-zero exit and a message naming the field', async (t) => {
  const cases: [string, RegExp][] = [
    ['apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: x}\nspec: {replicas: -1}\n', /spec\.replicas: must be >= 0/],
    [
      'apiVersion: utxo.com.br/v1alpha1\nkind: MoneroNodeSet\nmetadata: {name: x}\nspec: {monerod: {args: [--rpc-bind-ip=0.0.0.0]}}\n',
      /spec\.monerod\.args\[0\]: --rpc-bind-ip cannot be set/,
    ],
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

t.test('render and the hook server answer the same children for every example (key seed file ending in a newline)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'render-agrees-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const seedFile = join(dir, 'key-seed')
  writeFileSync(seedFile, 'render-and-hook-agree: a test seed, not a secret\n')
  const server = spawn(process.execPath, [repoPath('dist', 'hooks', 'main.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KEY_SEED_FILE: seedFile, OPERATOR_IMAGE: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => server.kill('SIGTERM'))
  const base = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
      if (url && out.includes('hook server ready')) resolve(url)
    })
    server.once('exit', (code) => reject(new Error(`the hook server exited with ${code}: ${out}`)))
  })
  const files = readdirSync(repoPath('examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
  // one render of every example (children in file and document order) ...
  const r = cli(['render', '--key-seed-file', seedFile, ...files.map((f) => `examples/${f}`)])
  t.equal(r.status, 0, `render exits 0 (${r.stderr})`)
  const rendered = parseAllDocuments(r.stdout).map((d) => JSON.stringify(d.toJS()))
  // ... and the hook's answer to each of them as a new object, in the same order
  const answered: string[] = []
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(repoPath('examples', file), 'utf8'))) {
      const resource = doc.toJS() as { apiVersion?: string; kind: string; metadata: Record<string, unknown> } | null
      if (!resource?.apiVersion?.startsWith('utxo.com.br/')) continue
      const parent = { ...resource, metadata: { namespace: 'default', generation: 1, ...resource.metadata } }
      const res = await fetch(`${base}/hooks/${resource.kind.toLowerCase()}/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ parent, children: {} }),
      })
      t.equal(res.status, 200, `${file}: ${resource.kind}/${String(resource.metadata.name)}: the hook answers 200`)
      const { children } = (await res.json()) as { children: unknown[] }
      answered.push(...children.map((c) => JSON.stringify(c)))
    }
  }
  t.ok(answered.length > 10, `${answered.length} children from ${files.length} example files`)
  t.equal(rendered.length, answered.length, 'as many children rendered as answered')
  for (const [i, doc] of rendered.entries()) t.equal(doc, answered[i], `child ${i + 1}: render prints what the hook answers, byte for byte`)
  // the newline is not part of the seed: the same seed without it renders the same addresses
  const bare = join(dir, 'key-seed-bare')
  writeFileSync(bare, 'render-and-hook-agree: a test seed, not a secret')
  const withNewline = cli(['render', '--key-seed-file', seedFile, 'examples/moneronodeset-tor-i2p.yaml'])
  const without = cli(['render', '--key-seed-file', bare, 'examples/moneronodeset-tor-i2p.yaml'])
  t.equal(without.status, 0, without.stderr)
  t.equal(without.stdout, withNewline.stdout, 'a trailing newline does not change the keys')
  const other = join(dir, 'key-seed-other')
  writeFileSync(other, 'render-and-hook-agree: another seed, not a secret\n')
  t.not(
    cli(['render', '--key-seed-file', other, 'examples/moneronodeset-tor-i2p.yaml']).stdout,
    withNewline.stdout,
    'the seed shows in the children (so the comparison sees it)',
  )
})
