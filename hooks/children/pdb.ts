import type { V1PodDisruptionBudget } from '@kubernetes/client-node'

/** A PodDisruptionBudget letting at most one pod of the set be evicted at a time. */
export function buildPodDisruptionBudget(input: {
  name: string
  namespace: string
  labels: Record<string, string>
  selector: Record<string, string>
}): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: input.selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  }
}
