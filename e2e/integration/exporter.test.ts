/**
 * The exporter against a real monerod (regtest, offline, loopback), through the real CLI
 * entry point (runExporterCommand listening on a free port, scraped over HTTP):
 * values equal get_info's; a hung monerod (SIGSTOP) still gives `monerod_up 0` within the
 * timeout; after monerod stops, `monerod_up 0` comes back within the timeout;
 * after a restart on the same data dir (--keep-fakechain) the exporter recovers, with the
 * chain kept. Also checks the Digest path (--rpc-login-file).
 *
 * Needs monerod (Debian package `monero`, or $MONEROD_BIN). Without it the tests are skipped,
 * unless CI=true, where a missing daemon is a failure. Scrape times are printed as comments.
 */
import t, { type Test } from 'tap'
import { requireDaemons } from './daemons.js'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { runExporterCommand } from '../../hooks/exporter/command.js'
import { DONATION_ADDRESS, MONEROD_BIN, freePort, startRegtestMonerod } from '../../hooks/monerod/regtest.js'

process.env.LOG_LEVEL = 'silent'

const skip = requireDaemons('the exporter integration tests', [{ bin: MONEROD_BIN, pkg: 'monero' }])

const TIMEOUT_MS = 2000

interface Scrape {
  values: Map<string, number>
  ms: number
  contentType: string | null
}

async function scrape(base: string, accept?: string): Promise<Scrape> {
  const started = performance.now()
  const res = await fetch(`${base}/metrics`, accept !== undefined ? { headers: { accept } } : {})
  const text = await res.text()
  const ms = performance.now() - started
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    values.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return { values, ms, contentType: res.headers.get('content-type') }
}

/**
 * Waits until every thread of `pid` is in the stopped state. kill(SIGSTOP) returns before the
 * threads stop: each stops when it is next scheduled, and measured here about one call in fifty
 * sent right after the kill was still answered.
 */
async function allThreadsStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const tasks = await readdir(`/proc/${pid}/task`)
    const states = await Promise.all(
      tasks.map(async (tid) => (await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => ') T')).replace(/^.*\) /s, '').charAt(0)),
    )
    if (states.every((s) => s === 'T')) return
    if (Date.now() > deadline) throw new Error(`monerod threads not stopped after 10 s: ${states.join('')}`)
    await sleep(1)
  }
}

/** Starts `cli exporter` in-process; stops it at teardown. */
async function startExporter(t: Test, argv: string[]): Promise<string> {
  const port = await freePort()
  const ac = new AbortController()
  let listening: (a: string) => void = () => {}
  const address = new Promise<string>((r) => (listening = r))
  const done = runExporterCommand([...argv, '--port', String(port), '--host', '127.0.0.1', '--timeout-ms', String(TIMEOUT_MS)], {
    signal: ac.signal,
    onListening: listening,
  })
  t.teardown(async () => {
    ac.abort()
    await done
  })
  return Promise.race([address, done.then(() => Promise.reject(new Error('exporter stopped early')))])
}

t.test('exporter against regtest monerod: values, outage, recovery', { skip, timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exporter-it-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'chain')
  let node = await startRegtestMonerod({ dataDir })
  t.teardown(() => node.stop())
  await node.client.generateBlocks({ amount_of_blocks: 5, wallet_address: DONATION_ADDRESS }, { timeoutMs: 120_000 })

  const exporter = await startExporter(t, ['--monerod', node.url])

  const first = await scrape(exporter)
  const info = await node.client.getInfo()
  const top = (await node.client.getLastBlockHeader()).block_header
  t.comment(
    `scrape against live monerod: ${first.ms.toFixed(1)} ms (exporter's own measure ${((first.values.get('monero_exporter_scrape_duration_seconds') ?? NaN) * 1000).toFixed(1)} ms)`,
  )
  t.equal(first.contentType, 'text/plain; version=0.0.4; charset=utf-8')
  const m = first.values
  t.equal(m.get('monerod_up'), 1)
  t.equal(m.get('monerod_height'), info.height)
  t.equal(info.height, 6)
  t.equal(m.get('monerod_synchronized'), 1)
  t.equal(m.get('monerod_difficulty'), info.difficulty)
  t.equal(m.get('monerod_database_size_bytes'), info.database_size)
  t.equal(m.get('monerod_connections{direction="in"}'), info.incoming_connections_count)
  t.equal(m.get('monerod_connections{direction="out"}'), info.outgoing_connections_count)
  t.equal(m.get('monerod_peerlist_size{list="white"}'), info.white_peerlist_size)
  t.equal(m.get('monerod_tx_pool_transactions'), info.tx_pool_size)
  t.equal(m.get(`monerod_info{version="${info.version}",nettype="fakechain"}`), 1)
  t.equal(m.get('monerod_last_block_timestamp_seconds'), top.timestamp)
  t.equal(m.get('monerod_last_block_reward_atomic'), top.reward)
  t.equal(m.get('monerod_last_block_size_bytes'), top.block_size)
  t.ok(Math.abs((m.get('monerod_free_space_bytes') ?? 0) - info.free_space) < 64 * 1024 * 1024, 'free space close to get_info')
  t.equal(m.get('monero_exporter_rpc_errors_total{method="get_info"}'), 0)
  t.ok(m.has('process_resident_memory_bytes'))

  const om = await scrape(exporter, 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2')
  t.equal(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  t.equal(om.values.get('monerod_height'), 6)
  t.equal((await fetch(`${exporter}/readyz`)).status, 200)

  // ---- hung monerod (SIGSTOP): the scrape still answers within the timeout
  const pid = node.child.pid!
  process.kill(pid, 'SIGSTOP')
  let hung: Scrape
  try {
    await allThreadsStopped(pid)
    hung = await scrape(exporter)
  } finally {
    process.kill(pid, 'SIGCONT')
  }
  t.comment(`scrape with monerod hung (SIGSTOP): ${hung.ms.toFixed(1)} ms (timeout ${TIMEOUT_MS} ms)`)
  t.equal(hung.values.get('monerod_up'), 0, 'hung monerod reported down')
  t.ok(hung.ms >= TIMEOUT_MS - 50 && hung.ms < TIMEOUT_MS + 1000, `hung scrape bounded by the timeout (${hung.ms.toFixed(0)} ms)`)

  // ---- outage
  await node.stop()
  const down = await scrape(exporter)
  t.comment(`scrape with monerod stopped: ${down.ms.toFixed(1)} ms (timeout ${TIMEOUT_MS} ms)`)
  t.equal(down.values.get('monerod_up'), 0)
  t.notOk(down.values.has('monerod_height'), 'no stale height while down')
  t.ok(down.ms < TIMEOUT_MS + 1000, `answered within timeout + margin (${down.ms.toFixed(0)} ms)`)
  const errors = down.values.get('monero_exporter_rpc_errors_total{method="get_info"}')
  t.ok((errors ?? 0) >= 1, `get_info errors counted (${errors})`)
  const notReady = await fetch(`${exporter}/readyz`)
  t.equal(notReady.status, 503, await notReady.text())
  t.equal((await fetch(`${exporter}/healthz`)).status, 200, 'liveness does not follow monerod')

  // ---- restart on the same data dir and port, chain kept
  node = await startRegtestMonerod({ dataDir, rpcPort: node.rpcPort, p2pPort: node.p2pPort, keepFakechain: true })
  let back: Scrape | undefined
  for (let i = 0; i < 40; i++) {
    back = await scrape(exporter)
    if (back.values.get('monerod_up') === 1) break
    await sleep(250)
  }
  t.equal(back?.values.get('monerod_up'), 1, 'recovered')
  t.equal(back?.values.get('monerod_height'), 6, 'chain kept with --keep-fakechain')
  t.comment(`scrape after restart: ${back?.ms.toFixed(1)} ms`)
})

t.test('exporter with --rpc-login-file against monerod --rpc-login', { skip, timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exporter-digest-it-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const node = await startRegtestMonerod({ dataDir: join(dir, 'chain'), rpcLogin: { username: 'monitor', password: 's3cret' } })
  t.teardown(() => node.stop())
  await writeFile(join(dir, 'rpc-login'), 'monitor:s3cret\n')
  const exporter = await startExporter(t, ['--monerod', node.url, '--rpc-login-file', join(dir, 'rpc-login')])
  for (let i = 0; i < 3; i++) {
    const s = await scrape(exporter)
    t.equal(s.values.get('monerod_up'), 1, `scrape ${i} authenticated`)
    t.equal(s.values.get('monerod_height'), 1)
    t.equal(s.values.get('monero_exporter_rpc_errors_total{method="get_transaction_pool_stats"}'), 0)
  }
})
