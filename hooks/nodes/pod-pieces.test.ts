/**
 * Field-level tests of the monerod pod pieces every node kind shares: the security contexts,
 * the monerod container and the exporter sidecar, built from a node spec as the validator
 * defaults it (what the apiserver stores for an empty spec).
 */
import t from 'tap'
import type { NodeSpec } from '../node-spec/types.js'
import { SpecError } from '../rules.js'
import { loadValidators } from '../schema.js'
import { buildMetricsExtras } from './metrics.js'
import { buildMonerodContainer, DATA_DIR } from './monerod-container.js'
import { monerodPorts } from './ports.js'
import { buildContainerSecurityContext, buildPodSecurityContext } from './security.js'

/** A MoneroNodeSet spec after defaulting, without replicas: a NodeSpec. */
function nodeSpec(spec: Record<string, unknown> = {}): NodeSpec {
  const copy = structuredClone(spec)
  const errors = loadValidators().get('MoneroNodeSet')?.validateSpec(copy)
  if (errors?.length) throw new Error(JSON.stringify(errors))
  const { replicas: _replicas, ...rest } = copy
  return rest as unknown as NodeSpec
}

const optionOf = (args: string[] | undefined, name: string) => args?.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))

t.test('security contexts: restricted by default; allowRoot drops only the non-root settings', async (t) => {
  const spec = nodeSpec()
  t.same(buildPodSecurityContext(spec.podSecurity), {
    runAsNonRoot: true,
    runAsUser: spec.podSecurity.runAsUser,
    runAsGroup: spec.podSecurity.runAsGroup,
    fsGroup: spec.podSecurity.fsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  })
  t.same(buildContainerSecurityContext(spec.podSecurity), {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: spec.podSecurity.readOnlyRootFilesystem,
    runAsNonRoot: true,
  })
  const root = { ...spec.podSecurity, allowRoot: true }
  t.notOk('runAsNonRoot' in buildPodSecurityContext(root) || 'runAsUser' in buildPodSecurityContext(root), 'no non-root pod settings')
  t.notOk('runAsNonRoot' in buildContainerSecurityContext(root), 'nor container setting')
  t.same(buildContainerSecurityContext(root).capabilities, { drop: ['ALL'] }, 'capabilities still dropped')
  t.equal(buildContainerSecurityContext(spec.podSecurity, true).readOnlyRootFilesystem, true, 'a sidecar can ask for a read-only root')
})

t.test('monerod container: operator flags, then the user args; ports, probes, mounts', async (t) => {
  const spec = nodeSpec({ monerod: { args: ['--out-peers=16'], env: [{ name: 'TZ', value: 'UTC' }], resources: { requests: { memory: '1.5Gi' } } } })
  const c = buildMonerodContainer({ spec, nettype: 'mainnet', extraOptions: [] })
  const ports = monerodPorts('mainnet')
  t.equal(c.name, 'monerod')
  t.same(c.command, ['monerod'])
  t.equal(c.args?.at(-1), '--out-peers=16', "the user's arguments come last")
  t.equal(optionOf(c.args, 'data-dir'), `--data-dir=${DATA_DIR}`)
  t.equal(optionOf(c.args, 'rpc-bind-ip'), '--rpc-bind-ip=127.0.0.1', 'the unrestricted RPC stays in the pod')
  t.equal(optionOf(c.args, 'confirm-external-bind'), undefined)
  t.equal(optionOf(c.args, 'keep-fakechain'), undefined, 'only regtest keeps its fake chain')
  t.same(c.ports, [
    { name: 'p2p', containerPort: ports.p2p, protocol: 'TCP' },
    { name: 'rpc-restricted', containerPort: ports.restrictedRpc, protocol: 'TCP' },
  ])
  t.same(c.env, [{ name: 'TZ', value: 'UTC' }])
  t.same(c.resources?.requests, { memory: '1536Mi' }, 'quantities as the apiserver stores them')
  t.same(c.readinessProbe?.httpGet, { path: '/get_height', port: 'rpc-restricted' })
  t.equal(c.startupProbe?.failureThreshold, 720, 'two hours for the database to load')
  t.same(
    c.volumeMounts?.map((m) => m.mountPath),
    [DATA_DIR, '/tmp'],
  )
})

t.test('monerod container: regtest, solo mining, rpc-login and refused flags', async (t) => {
  const regtest = buildMonerodContainer({ spec: nodeSpec({ monerod: { args: ['--regtest'] } }), nettype: 'regtest', extraOptions: [] })
  t.ok(optionOf(regtest.args, 'keep-fakechain'), 'regtest keeps its chain across restarts')

  const solo = buildMonerodContainer({ spec: nodeSpec({ soloMining: { enabled: true, miners: ['miners'] } }), nettype: 'mainnet', extraOptions: [] })
  t.equal(optionOf(solo.args, 'rpc-bind-ip'), '--rpc-bind-ip=0.0.0.0')
  t.ok(optionOf(solo.args, 'confirm-external-bind'))
  t.same(solo.ports?.at(-1), { name: 'rpc-mining', containerPort: monerodPorts('mainnet').rpc, protocol: 'TCP' })

  const login = buildMonerodContainer({ spec: nodeSpec({ monerod: { args: ['--rpc-login=u:p'] } }), nettype: 'mainnet', extraOptions: [] })
  t.same(login.livenessProbe?.tcpSocket, { port: 'rpc-restricted' }, 'with Digest auth the probes only check the port')
  t.notOk(login.livenessProbe?.httpGet)

  t.throws(
    () =>
      buildMonerodContainer({
        spec: nodeSpec({ monerod: { args: ['--out-peers=8', '--data-dir=/x'] } }),
        nettype: 'mainnet',
        extraOptions: [],
        specPath: 'spec.template.spec',
      }),
    new SpecError(
      'spec.template.spec.monerod.args[1]',
      '--data-dir cannot be set: chain data must live on the persistent volume (/data); change storage instead',
    ),
    'a reserved flag is refused at its index, under the kind’s spec path',
  )
})

t.test('exporter sidecar: off gives nothing; on reads the in-pod RPC and serves the metrics port', async (t) => {
  const base = {
    ports: monerodPorts('stagenet'),
    operatorImage: 'op:1',
    namespace: 'ns',
    workload: 'nodes',
    identity: { kind: 'moneronodeset', instance: 'nodes', app: 'monerod' as const, component: 'node' },
  }
  const off = nodeSpec({ metrics: { enabled: false } })
  t.same(buildMetricsExtras({ ...base, metrics: off.metrics, spec: off }), {})

  const on = nodeSpec({ metrics: { readiness: 'synchronized', podMonitor: { enabled: true, interval: '15s' } }, monerod: { args: ['--rpc-login=op:p@ss/w'] } })
  const extras = buildMetricsExtras({ ...base, metrics: on.metrics, spec: on })
  const [sidecar] = extras.sidecars ?? []
  t.equal(sidecar?.image, 'op:1', 'the operator image by default')
  t.same(
    sidecar?.args?.slice(0, 4),
    ['dist/hooks/cli.js', 'exporter', '--monerod', `http://op:p%40ss%2Fw@127.0.0.1:${monerodPorts('stagenet').rpc}`],
    'the login, URL-encoded',
  )
  t.equal(sidecar?.readinessProbe?.httpGet?.path, '/readyz', 'Ready only while synchronized')
  t.equal(sidecar?.securityContext?.readOnlyRootFilesystem, true)
  t.same(extras.servicePorts, [{ name: 'metrics', port: on.metrics.port, targetPort: 'metrics', protocol: 'TCP' }])
  t.match(extras.children, [
    { kind: 'PodMonitor', metadata: { name: 'nodes', namespace: 'ns' }, spec: { podMetricsEndpoints: [{ port: 'metrics', interval: '15s' }] } },
  ])
})
