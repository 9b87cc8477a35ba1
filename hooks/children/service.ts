import type { V1Service, V1ServicePort } from '@kubernetes/client-node'

interface ServiceInput {
  name: string
  namespace: string
  labels: Record<string, string>
  selector: Record<string, string>
  ports: V1ServicePort[]
  annotations?: Record<string, string> | undefined
}

/**
 * The headless Service that governs a StatefulSet: stable pod DNS names, by default published
 * before pods are ready so peers can find each other while they start.
 *
 * Only what the apiserver stores as sent: `publishNotReadyAddresses: false` (the default) and
 * an empty `ports` list are omitted by the apiserver, so sending them would make every
 * Metacontroller sync see a difference and update the Service again.
 */
export function buildHeadlessService(input: ServiceInput & { publishNotReadyAddresses?: boolean }): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    spec: {
      clusterIP: 'None',
      ...((input.publishNotReadyAddresses ?? true) ? { publishNotReadyAddresses: true } : {}),
      selector: input.selector,
      ...(input.ports.length > 0 ? { ports: input.ports } : {}),
    },
  }
}

/** A client Service of the given type in front of the selected pods. */
export function buildClientService(
  input: ServiceInput & {
    type: 'ClusterIP' | 'NodePort' | 'LoadBalancer'
    externalTrafficPolicy?: 'Cluster' | 'Local' | undefined
    loadBalancerSourceRanges?: string[] | undefined
  },
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: input.labels,
      ...(input.annotations && Object.keys(input.annotations).length > 0 ? { annotations: input.annotations } : {}),
    },
    spec: {
      type: input.type,
      selector: input.selector,
      ports: input.ports,
      ...(input.externalTrafficPolicy ? { externalTrafficPolicy: input.externalTrafficPolicy } : {}),
      ...(input.loadBalancerSourceRanges ? { loadBalancerSourceRanges: input.loadBalancerSourceRanges } : {}),
    },
  }
}
