import type { V1ObjectMeta, V1PersistentVolumeClaim, V1PodTemplateSpec, V1StatefulSet } from '@kubernetes/client-node'
import { canonicalQuantity } from './quantity.js'

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
  /**
   * Pods a rolling update may take down at once (StatefulSet MaxUnavailableStatefulSet
   * feature). Apiservers without that feature gate drop the field: see
   * hooks/monerominingnodeset/max-unavailable.ts for when to send it.
   */
  maxUnavailable?: number | string | undefined
  annotations?: Record<string, string> | undefined
}): V1StatefulSet {
  const metadata: V1ObjectMeta = { name: input.name, namespace: input.namespace, labels: input.labels }
  if (input.annotations && Object.keys(input.annotations).length > 0) metadata.annotations = input.annotations
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata,
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

/**
 * A volume claim template exactly as the apiserver stores it. Metacontroller replaces a
 * `volumeClaimTemplates` list whole (its items have no merge key) and compares the result with
 * the stored object, so every field the apiserver fills in must be sent too, or each sync is
 * an update: `volumeMode: Filesystem`, `status.phase: Pending`, and the size in canonical form
 * (`1.5Gi` is stored as `1536Mi`).
 */
export function buildVolumeClaimTemplate(input: {
  name: string
  labels: Record<string, string>
  size: string | number
  storageClassName?: string | undefined
}): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: input.name, labels: input.labels },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(input.storageClassName ? { storageClassName: input.storageClassName } : {}),
      resources: { requests: { storage: canonicalQuantity(input.size) } },
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Pending' },
  }
}
