/**
 * Manual use of the cluster tier's cluster:
 *   node dist/e2e/cluster/main.js up      start it and leave it running (prints the kubeconfig path)
 *   node dist/e2e/cluster/main.js down    tear it down (also a cluster left by a killed test run)
 *   node dist/e2e/cluster/main.js check   list what a torn-down cluster would have left behind
 *   node dist/e2e/cluster/main.js test TAP-ARGS...
 *                                         start a cluster, run tap with the scenario environment
 *                                         (SCENARIO_KUBECONFIG, SCENARIO_*_IMAGE, pull policy Never)
 *                                         pointing at it, tear it down, exit with tap's status
 * Needs root and `bash e2e/cluster/build.sh`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULTS, leftovers, startCluster, teardownSync } from './cluster.js'

const command = process.argv[2]
const log = (m: string) => process.stderr.write(`${m}\n`)

if (command === 'up') {
  const cluster = await startCluster({ detach: true, log })
  process.stdout.write(
    `kubeconfig: ${cluster.kubeconfigPath}\n` +
      `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
      `images: ${Object.entries(cluster.images)
        .map(([role, ref]) => `${role}=${ref}`)
        .join(' ')}\n` +
      `logs: ${cluster.runDir}/logs\nstop with: node dist/e2e/cluster/main.js down\n`,
  )
  process.exit(0)
} else if (command === 'test') {
  let repo = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(repo, 'package.json')) && dirname(repo) !== repo) repo = dirname(repo)
  const tapBin = join(repo, 'node_modules', '.bin', 'tap')
  const patterns = process.argv.slice(3).filter((a) => !a.startsWith('-'))
  const files = spawnSync(tapBin, ['list', ...patterns], { cwd: repo, encoding: 'utf8' }).stdout.trim()
  if (!files) {
    log(`cluster: no test files match ${patterns.join(' ')}; no cluster started`)
    process.exit(0)
  }
  const cluster = await startCluster({ log })
  const env = {
    ...process.env,
    SCENARIO_KUBECONFIG: cluster.kubeconfigPath,
    SCENARIO_OPERATOR_IMAGE: process.env.SCENARIO_OPERATOR_IMAGE || cluster.images.operator,
    SCENARIO_MONEROD_IMAGE: process.env.SCENARIO_MONEROD_IMAGE || cluster.images.monerod,
    SCENARIO_XMRIG_IMAGE: process.env.SCENARIO_XMRIG_IMAGE || cluster.images.xmrig,
    SCENARIO_PULL_POLICY: process.env.SCENARIO_PULL_POLICY || 'Never',
  }
  const started = Date.now()
  const code = await new Promise<number>((resolveCode) => {
    const tap = spawn(tapBin, process.argv.slice(3), { stdio: 'inherit', env, cwd: repo })
    tap.on('exit', (c, signal) => resolveCode(c ?? (signal ? 1 : 0)))
  })
  log(`cluster: tests ${((Date.now() - started) / 1000).toFixed(1)} s (tap exit ${code})`)
  await cluster.stop()
  const left = leftovers()
  if (left.length) log(`left behind:\n  ${left.join('\n  ')}`)
  process.exit(code || (left.length ? 1 : 0))
} else if (command === 'down') {
  teardownSync(DEFAULTS.runDir, { log })
  const left = leftovers()
  if (left.length) {
    log(`left behind:\n  ${left.join('\n  ')}`)
    process.exit(1)
  }
} else if (command === 'check') {
  const left = leftovers()
  process.stdout.write(left.length ? `${left.join('\n')}\n` : 'nothing left behind\n')
  process.exit(left.length ? 1 : 0)
} else {
  log('usage: node dist/e2e/cluster/main.js up|down|check|test TAP-ARGS...')
  process.exit(2)
}
