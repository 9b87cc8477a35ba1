import type { V1Container } from '@kubernetes/client-node'
import type { MetricsSpec, NodeSpec } from '../node-spec/types.js'
import { commonLabels, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_PART_OF, selectorLabels, type SetIdentity } from '../labels.js'
import type { KubeObject } from '../metacontroller.js'
import { parseMonerodArgs } from './monerod-args.js'
import type { NodeExtras } from './node-set.js'
import { PORT_NAMES, type MonerodPorts } from './ports.js'
import { buildContainerSecurityContext } from './security.js'

export const EXPORTER_CONTAINER = 'exporter'

/**
 * The monerod metrics exporter sidecar: reads the unrestricted RPC on 127.0.0.1 inside the
 * pod (the restricted one zeroes connection and peer counts) and serves /metrics on the
 * metrics port. With `readiness: synchronized` the pod is Ready only while monerod reports
 * itself synchronized.
 */
export function buildMetricsExtras(input: {
  metrics: MetricsSpec
  spec: NodeSpec
  ports: MonerodPorts
  operatorImage: string
  namespace: string
  workload: string
  identity: SetIdentity
}): NodeExtras {
  const { metrics, spec } = input
  if (!metrics.enabled) return {}
  // With --rpc-login the RPC wants Digest auth: the exporter takes the same credentials,
  // which are already in the pod's args.
  const login = parseMonerodArgs(spec.monerod.args ?? []).find((o) => o.name === 'rpc-login')?.value
  const auth = login ? `${login.split(':').map(encodeURIComponent).join(':')}@` : ''
  const sidecar: V1Container = {
    name: EXPORTER_CONTAINER,
    image: metrics.image ?? input.operatorImage,
    args: ['dist/hooks/cli.js', 'exporter', '--monerod', `http://${auth}127.0.0.1:${input.ports.rpc}`, '--port', String(metrics.port), '--timeout-ms', '5000'],
    ports: [{ name: PORT_NAMES.metrics, containerPort: metrics.port, protocol: 'TCP' }],
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '160Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port: PORT_NAMES.metrics }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: {
      httpGet: { path: metrics.readiness === 'synchronized' ? '/readyz' : '/healthz', port: PORT_NAMES.metrics },
      periodSeconds: 15,
      timeoutSeconds: 10,
      failureThreshold: 3,
    },
    securityContext: buildContainerSecurityContext(spec.podSecurity, true),
  }
  const children: KubeObject[] = []
  if (metrics.podMonitor?.enabled) children.push(buildPodMonitor({ ...input, metrics }))
  return {
    sidecars: [sidecar],
    servicePorts: [{ name: PORT_NAMES.metrics, port: metrics.port, targetPort: PORT_NAMES.metrics, protocol: 'TCP' }],
    children,
  }
}

/** A Prometheus Operator PodMonitor scraping the exporter of every pod of a set (nodes or miners). */
export function buildPodMonitor(input: { metrics: Pick<MetricsSpec, 'podMonitor'>; namespace: string; workload: string; identity: SetIdentity }): KubeObject {
  const pm = input.metrics.podMonitor ?? { enabled: true }
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: input.workload, namespace: input.namespace, labels: { ...pm.labels, ...commonLabels(input.identity) } },
    spec: {
      selector: { matchLabels: selectorLabels(input.identity) },
      // the alert rules group by these (see charts/monero-operator/files/alerts)
      podTargetLabels: [LABEL_INSTANCE, LABEL_PART_OF, LABEL_COMPONENT],
      podMetricsEndpoints: [{ port: PORT_NAMES.metrics, path: '/metrics', ...(pm.interval ? { interval: pm.interval } : {}) }],
    },
  }
}
