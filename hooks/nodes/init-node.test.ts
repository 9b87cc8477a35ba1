import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { combineConfigs, parseInitNodeArgs, runInitNode } from './init-node.js'
import { exclusivePeerHosts, unresolved } from './wait-peers.js'

t.test('peer hosts are read from config lines (names, IPv4, bracketed IPv6)', async (t) => {
  t.same(exclusivePeerHosts('# c\nadd-exclusive-node=a-peer-0:18080\nadd-exclusive-node = 10.0.0.1:1\nadd-exclusive-node=[::1]:18080\nout-peers=2\nadd-exclusive-node=a-peer-0:18080\n'), [
    'a-peer-0',
    '10.0.0.1',
    '::1',
  ])
})

t.test('unresolved names are reported by the real resolver', async (t) => {
  t.same(await unresolved(['localhost', 'no-such-host.invalid']), ['no-such-host.invalid'])
})

t.test('init-node writes the combined config once names resolve, and waits while they do not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'init-node-'))
  const a = join(dir, 'a.conf')
  const b = join(dir, 'b.conf')
  writeFileSync(a, 'add-exclusive-node=localhost:18080')
  writeFileSync(b, 'anonymous-inbound=x.onion:18084,127.0.0.1:18084,64\n')
  const out = join(dir, 'run', 'monerod.conf')
  t.equal(await runInitNode(['--out', out, '--include', a, '--include', b, '--wait-peers'], () => {}), 0)
  t.equal(readFileSync(out, 'utf8'), combineConfigs(['add-exclusive-node=localhost:18080', 'anonymous-inbound=x.onion:18084,127.0.0.1:18084,64\n']))
  writeFileSync(a, 'add-exclusive-node=no-such-host.invalid:18080\n')
  const logs: object[] = []
  t.equal(await runInitNode(['--out', join(dir, 'x.conf'), '--include', a, '--wait-peers', '--interval-seconds', '0.1', '--max-wait-seconds', '0.5'], (l) => logs.push(l)), 1)
  t.match(JSON.stringify(logs), /no-such-host\.invalid/)
  t.throws(() => parseInitNodeArgs(['--include', a]), /--out FILE is required/)
})
