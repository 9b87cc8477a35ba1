/**
 * Smoke test of the cluster tier's cluster: our image runs as a restricted pod and becomes
 * Ready, a Service name resolves through CoreDNS and answers through kube-proxy, a claim binds
 * to a local PersistentVolume that the pod's non-root user can write, PodSecurity refuses a
 * pod that is not restricted, `kubectl logs` reaches the kubelet, and teardown leaves nothing.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node'
import { clusterAvailable, leftovers, startCluster, type Cluster } from './cluster.js'

const NS = 'smoke'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const restrictedPod = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } }
const restrictedContainer = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }

function nodePod(cluster: Cluster, name: string, script: string, extra: Partial<V1Pod['spec']> & { labels?: Record<string, string> } = {}): V1Pod {
  const { labels, ...spec } = extra
  return {
    metadata: { name, namespace: NS, labels: { app: name, ...labels } },
    spec: {
      restartPolicy: 'Never',
      securityContext: restrictedPod,
      ...spec,
      containers: [
        {
          name: 'main',
          image: cluster.images.operator!,
          imagePullPolicy: 'Never',
          args: ['-e', script],
          securityContext: restrictedContainer,
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          ...(spec.containers?.[0] ?? {}),
        },
      ],
    },
  } as V1Pod
}

async function waitForPod(core: CoreV1Api, name: string, ok: (pod: V1Pod) => boolean, timeoutMs = 120_000): Promise<V1Pod> {
  const deadline = Date.now() + timeoutMs
  let pod: V1Pod | undefined
  for (;;) {
    pod = await core.readNamespacedPod({ name, namespace: NS })
    if (ok(pod)) return pod
    if (pod.status?.phase === 'Failed') throw new Error(`pod ${name} failed: ${JSON.stringify(pod.status)}`)
    if (Date.now() > deadline) throw new Error(`pod ${name} not there after ${timeoutMs} ms: ${JSON.stringify(pod.status)}`)
    await sleep(500)
  }
}

if (clusterAvailable(t)) {
  t.test('single-node cluster: restricted pods, DNS, services, local volumes, teardown', async (t) => {
    const cluster = await startCluster({ log: (m) => t.comment(m) })
    let stopped = false
    t.teardown(async () => {
      if (!stopped) await cluster.stop()
    })
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api)
    const ready = (pod: V1Pod) => !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    const succeeded = (pod: V1Pod) => pod.status?.phase === 'Succeeded'

    await core.createNamespace({
      body: { metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } },
    })
    // The default ServiceAccount of a new namespace appears asynchronously.
    for (let i = 0; i < 100; i++) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })
        break
      } catch {
        await sleep(200)
      }
    }

    await t.test('PodSecurity refuses a pod that is not restricted', async (t) => {
      const pod = nodePod(cluster, 'not-restricted', 'setTimeout(() => {}, 1000)')
      pod.spec!.securityContext = {}
      pod.spec!.containers[0]!.securityContext = {}
      const refused = await core.createNamespacedPod({ namespace: NS, body: pod }).then(
        () => undefined,
        (err: { code?: number; body?: string }) => err,
      )
      t.equal(refused?.code, 403, 'refused with 403 Forbidden')
      t.match(String(refused?.body), /violates PodSecurity \\?"restricted:latest/)
    })

    await t.test('our image serves HTTP as uid 1000 and becomes Ready', async (t) => {
      const server = `require('node:http').createServer((q, s) => s.end('hello from ' + process.getuid())).listen(8080)`
      await core.createNamespacedPod({
        namespace: NS,
        body: nodePod(cluster, 'web', server, {
          containers: [
            {
              name: 'main',
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
            },
          ],
        }),
      })
      const pod = await waitForPod(core, 'web', ready)
      t.ok(pod.status?.podIP?.startsWith('10.244.'), `pod IP from the pod CIDR (${pod.status?.podIP})`)
      await core.createNamespacedService({
        namespace: NS,
        body: { metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      })
    })

    await t.test('a Service name resolves through CoreDNS and answers through kube-proxy', async (t) => {
      // CoreDNS and kube-proxy learn of the new Service through their watches within moments:
      // the client retries for up to 60 s, as any client of a just-created Service must.
      const client = `
        const dns = require('node:dns/promises');
        (async () => {
          for (let attempt = 1; ; attempt++) {
            try {
              const { address } = await dns.lookup('web');
              const body = await (await fetch('http://web.${NS}.svc.cluster.local/')).text();
              console.log(JSON.stringify({ address, body }));
              return;
            } catch (e) {
              console.error('attempt ' + attempt + ': ' + (e.cause?.code || e.code || e.message));
              if (attempt >= 60) throw e;
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        })().catch((e) => { console.error(e); process.exit(1); });`
      await core.createNamespacedPod({ namespace: NS, body: nodePod(cluster, 'client', client) })
      await waitForPod(core, 'client', succeeded)
      const logs = execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'logs', 'client'], { encoding: 'utf8' })
      const svc = await core.readNamespacedService({ name: 'web', namespace: NS })
      const lines = logs.trim().split('\n')
      if (lines.length > 1) t.comment(`client retried: ${lines.slice(0, -1).join('; ')}`)
      t.same(JSON.parse(lines[lines.length - 1]!), { address: svc.spec?.clusterIP, body: 'hello from 1000' })
    })

    await t.test('a claim binds to a local volume the non-root pod can write', async (t) => {
      await core.createNamespacedPersistentVolumeClaim({
        namespace: NS,
        body: {
          metadata: { name: 'data', namespace: NS },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      })
      const writer = `
        const fs = require('node:fs');
        fs.writeFileSync('/data/hello', 'written by ' + process.getuid());
        console.log(fs.readFileSync('/data/hello', 'utf8'));`
      await core.createNamespacedPod({
        namespace: NS,
        body: nodePod(cluster, 'writer', writer, {
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          containers: [{ name: 'main', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        }),
      })
      await waitForPod(core, 'writer', succeeded)
      const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: NS })
      t.equal(pvc.status?.phase, 'Bound')
      const pv = await core.readPersistentVolume({ name: pvc.spec!.volumeName! })
      t.ok(pv.spec?.local?.path, 'bound to a local volume')
      t.equal(execFileSync('cat', [`${pv.spec!.local!.path}/hello`], { encoding: 'utf8' }), 'written by 1000')
    })

    await cluster.stop()
    stopped = true
    t.same(leftovers(), [], 'teardown left nothing behind (links, iptables chains, mounts, cgroups, processes, run directory)')
  })
}
