/**
 * Field-level tests of the child builders: each object exactly as the apiserver stores what we
 * send (so Metacontroller sees no difference on the next sync), with the optional fields
 * present only when given.
 */
import t from 'tap'
import { buildConfigMap } from './configmap.js'
import { buildPodDisruptionBudget } from './pdb.js'
import { buildClientService, buildHeadlessService } from './service.js'
import { buildStatefulSet, buildVolumeClaimTemplate } from './statefulset.js'

const labels = { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': 'nodes' }
const selector = { 'app.kubernetes.io/instance': 'nodes' }
const ports = [{ name: 'p2p', port: 18080, targetPort: 'p2p', protocol: 'TCP' }]

t.test('ConfigMap: name, namespace, labels and the data as given', async (t) => {
  t.same(buildConfigMap({ name: 'nodes-tor', namespace: 'ns', labels, data: { torrc: 'SocksPort 0\n' } }), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'nodes-tor', namespace: 'ns', labels },
    data: { torrc: 'SocksPort 0\n' },
  })
})

t.test('PodDisruptionBudget: one pod at a time, unhealthy pods always evictable', async (t) => {
  t.same(buildPodDisruptionBudget({ name: 'nodes', namespace: 'ns', labels, selector }), {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'nodes', namespace: 'ns', labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  })
})

t.test('headless Service: publishes not-ready pods by default; what the apiserver omits is omitted', async (t) => {
  t.same(buildHeadlessService({ name: 'nodes-peers', namespace: 'ns', labels, selector, ports }), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nodes-peers', namespace: 'ns', labels },
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector, ports },
  })
  const quiet = buildHeadlessService({ name: 'm', namespace: 'ns', labels, selector, ports: [], publishNotReadyAddresses: false })
  t.same(quiet.spec, { clusterIP: 'None', selector }, 'publishNotReadyAddresses false and an empty port list are not sent')
})

t.test('client Service: type, ports and the optional traffic settings only when given', async (t) => {
  t.same(buildClientService({ name: 'nodes', namespace: 'ns', labels, selector, ports, type: 'ClusterIP' }), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nodes', namespace: 'ns', labels },
    spec: { type: 'ClusterIP', selector, ports },
  })
  const lb = buildClientService({
    name: 'nodes',
    namespace: 'ns',
    labels,
    selector,
    ports,
    type: 'LoadBalancer',
    annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    externalTrafficPolicy: 'Local',
    loadBalancerSourceRanges: ['203.0.113.0/24'],
  })
  t.same(lb.metadata?.annotations, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' })
  t.same(lb.spec, { type: 'LoadBalancer', selector, ports, externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['203.0.113.0/24'] })
  t.notOk(
    'annotations' in (buildClientService({ name: 'n', namespace: 'ns', labels, selector, ports, type: 'NodePort', annotations: {} }).metadata ?? {}),
    'empty annotations are not sent',
  )
})

t.test('StatefulSet: parallel pods, one-at-a-time rolling updates, retention and claims when given', async (t) => {
  const template = { metadata: { labels }, spec: { containers: [{ name: 'monerod', image: 'monerod:1' }] } }
  const claim = buildVolumeClaimTemplate({ name: 'data', labels, size: '1.5Gi' })
  t.same(
    buildStatefulSet({
      name: 'nodes-monerod',
      namespace: 'ns',
      labels,
      selector,
      replicas: 3,
      serviceName: 'nodes-peers',
      template,
      volumeClaimTemplates: [claim],
      retention: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      annotations: { note: 'x' },
    }),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'nodes-monerod', namespace: 'ns', labels, annotations: { note: 'x' } },
      spec: {
        replicas: 3,
        serviceName: 'nodes-peers',
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
        revisionHistoryLimit: 10,
        template,
        volumeClaimTemplates: [claim],
      },
    },
  )
  const miners = buildStatefulSet({
    name: 'm',
    namespace: 'ns',
    labels,
    selector,
    replicas: 2,
    serviceName: 'm',
    template,
    maxUnavailable: '25%',
    annotations: {},
  })
  t.same(miners.metadata, { name: 'm', namespace: 'ns', labels }, 'empty annotations are not sent')
  t.same(miners.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '25%' } }, 'maxUnavailable when given')
  t.notOk(miners.spec && 'volumeClaimTemplates' in miners.spec, 'a stateless set has no claim templates')
  t.notOk(miners.spec && 'persistentVolumeClaimRetentionPolicy' in miners.spec, 'nor a retention policy')
})

t.test('volume claim template: as the apiserver stores it (canonical size, volumeMode, Pending status)', async (t) => {
  t.same(buildVolumeClaimTemplate({ name: 'data', labels, size: '1.5Gi', storageClassName: 'fast' }), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', labels },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1536Mi' } }, volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  })
  t.notOk('storageClassName' in (buildVolumeClaimTemplate({ name: 'data', labels, size: 10 }).spec ?? {}), 'the default class when none is given')
  t.equal(buildVolumeClaimTemplate({ name: 'data', labels, size: 10 }).spec?.resources?.requests?.storage, '10', 'a number is a plain quantity')
})
