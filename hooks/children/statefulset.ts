import type { V1PersistentVolumeClaim, V1PodTemplateSpec, V1StatefulSet } from '@kubernetes/client-node'

/**
 * A StatefulSet with the settings every Monero set shares: pods managed in parallel (peers
 * are independent; a 1000-peer network must not start one pod at a time), rolling updates
 * one pod at a time (highest ordinal first, each waiting for the previous to be Ready), and
 * volume claims kept or deleted as the retention policy says.
 */
export function buildStatefulSet(input: {
  name: string
  namespace: string
  labels: Record<string, string>
  selector: Record<string, string>
  replicas: number
  serviceName: string
  template: V1PodTemplateSpec
  /** Stateless sets (miners) have none. */
  volumeClaimTemplates?: V1PersistentVolumeClaim[]
  retention?: { whenDeleted: 'Retain' | 'Delete'; whenScaled: 'Retain' | 'Delete' }
  /** Pods a rolling update may take down at once (StatefulSet MaxUnavailableStatefulSet feature). */
  maxUnavailable?: number | string | undefined
}): V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    spec: {
      replicas: input.replicas,
      serviceName: input.serviceName,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: input.selector },
      updateStrategy: {
        type: 'RollingUpdate',
        rollingUpdate: { partition: 0, ...(input.maxUnavailable !== undefined ? { maxUnavailable: input.maxUnavailable } : {}) },
      },
      ...(input.retention ? { persistentVolumeClaimRetentionPolicy: input.retention } : {}),
      revisionHistoryLimit: 10,
      template: input.template,
      ...(input.volumeClaimTemplates ? { volumeClaimTemplates: input.volumeClaimTemplates } : {}),
    },
  }
}
