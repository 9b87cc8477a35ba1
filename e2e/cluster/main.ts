/**
 * Manual use of the cluster tier's cluster:
 *   node dist/e2e/cluster/main.js up      start it and leave it running (prints the kubeconfig path)
 *   node dist/e2e/cluster/main.js down    tear it down (also a cluster left by a killed test run)
 *   node dist/e2e/cluster/main.js check   list what a torn-down cluster would have left behind
 * Needs root and `bash e2e/cluster/build.sh`.
 */
import { DEFAULTS, leftovers, startCluster, teardownSync } from './cluster.js';

const command = process.argv[2];
const log = (m: string) => process.stderr.write(`${m}\n`);

if (command === 'up') {
  const cluster = await startCluster({ detach: true, log });
  process.stdout.write(
    `kubeconfig: ${cluster.kubeconfigPath}\n` +
      `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
      `images: ${Object.entries(cluster.images)
        .map(([role, ref]) => `${role}=${ref}`)
        .join(' ')}\n` +
      `logs: ${cluster.runDir}/logs\nstop with: node dist/e2e/cluster/main.js down\n`,
  );
  process.exit(0);
} else if (command === 'down') {
  teardownSync(DEFAULTS.runDir, { log });
  const left = leftovers();
  if (left.length) {
    log(`left behind:\n  ${left.join('\n  ')}`);
    process.exit(1);
  }
} else if (command === 'check') {
  const left = leftovers();
  process.stdout.write(left.length ? `${left.join('\n')}\n` : 'nothing left behind\n');
  process.exit(left.length ? 1 : 0);
} else {
  log('usage: node dist/e2e/cluster/main.js up|down|check');
  process.exit(2);
}
