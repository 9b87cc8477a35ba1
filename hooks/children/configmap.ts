import type { V1ConfigMap } from '@kubernetes/client-node'

/** A ConfigMap holding rendered configuration files (never key material). */
export function buildConfigMap(input: { name: string; namespace: string; labels: Record<string, string>; data: Record<string, string> }): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    data: input.data,
  }
}
