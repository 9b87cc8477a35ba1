/**
 * Keeps the TypeScript view of the specs (types.ts) and the CRD schema from drifting: each
 * `KEYS` object must name exactly the keys of its interface (checked by the compiler), and
 * the schema must have exactly those properties (checked here).
 */
import t from 'tap'
import type { MoneroNetworkSpec } from '../moneronetwork/types.js'
import type { MoneroNodeSetSpec } from '../moneronodeset/types.js'
import type { AnonymitySpec, MetricsSpec, MonerodSpec, ServiceSpec, StorageSpec } from '../node-spec/types.js'
import type { PodSecuritySpec } from './types.js'
import { loadCrds } from '../schema.js'

type Keys<T> = { [K in keyof Required<T>]: true }

const NODESET = {
  replicas: true,
  hardAntiAffinity: true,
  monerod: true,
  storage: true,
  service: true,
  podSecurity: true,
  metrics: true,
  tor: true,
  i2p: true,
  soloMining: true,
  terminationGracePeriodSeconds: true,
  nodeSelector: true,
  tolerations: true,
  affinity: true,
  topologySpreadConstraints: true,
  priorityClassName: true,
  imagePullSecrets: true,
  podAnnotations: true,
  podLabels: true,
} satisfies Keys<MoneroNodeSetSpec>
const MONEROD = { image: true, imagePullPolicy: true, args: true, env: true, resources: true } satisfies Keys<MonerodSpec>
const STORAGE = { size: true, storageClassName: true, retention: true } satisfies Keys<StorageSpec>
const SERVICE = {
  type: true,
  annotations: true,
  p2p: true,
  restrictedRpc: true,
  externalTrafficPolicy: true,
  loadBalancerSourceRanges: true,
} satisfies Keys<ServiceSpec>
const SECURITY = { runAsUser: true, runAsGroup: true, fsGroup: true, readOnlyRootFilesystem: true, allowRoot: true } satisfies Keys<PodSecuritySpec>
const METRICS = { enabled: true, port: true, image: true, readiness: true, podMonitor: true } satisfies Keys<MetricsSpec>
const ANONYMITY = {
  enabled: true,
  image: true,
  publish: true,
  maxConnections: true,
  inboundMaxConnections: true,
  keysSecretName: true,
  rotation: true,
} satisfies Keys<AnonymitySpec>
const NETWORK = { replicas: true, template: true } satisfies Keys<MoneroNetworkSpec>

function specSchema(kind: string): Record<string, any> {
  const crd = loadCrds().find((c) => (c.spec as any).names.kind === kind) as any
  return crd.spec.versions[0].schema.openAPIV3Schema.properties.spec
}
const props = (schema: Record<string, any>) => Object.keys(schema.properties).sort()

t.test('MoneroNodeSet spec: schema properties equal the TypeScript interfaces', async (t) => {
  const spec = specSchema('MoneroNodeSet')
  t.same(props(spec), Object.keys(NODESET).sort())
  t.same(props(spec.properties.monerod), Object.keys(MONEROD).sort())
  t.same(props(spec.properties.storage), Object.keys(STORAGE).sort())
  t.same(props(spec.properties.service), Object.keys(SERVICE).sort())
  t.same(props(spec.properties.podSecurity), Object.keys(SECURITY).sort())
  t.same(props(spec.properties.metrics), Object.keys(METRICS).sort())
  for (const network of ['tor', 'i2p']) {
    t.same(props(spec.properties[network]), Object.keys(ANONYMITY).sort(), `${network}`)
    t.same(props(spec.properties[network].properties.publish), ['p2p', 'restrictedRpc'], `${network}.publish`)
  }
})

t.test('MoneroNetwork spec: template.spec is the node spec without replicas', async (t) => {
  const spec = specSchema('MoneroNetwork')
  t.same(props(spec), Object.keys(NETWORK).sort())
  t.same(
    props(spec.properties.template.properties.spec),
    Object.keys(NODESET)
      .filter((k) => k !== 'replicas')
      .sort(),
  )
  t.same(spec.properties.template.properties.spec.properties.monerod.properties.args, specSchema('MoneroNodeSet').properties.monerod.properties.args)
})
