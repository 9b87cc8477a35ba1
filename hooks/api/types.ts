/**
 * TypeScript view of the spec pieces every kind shares, after the apiserver (or the hook's
 * validator) applied the schema defaults (schema-parts.ts is their schema).
 * hooks/api/types.test.ts checks the spec types against the CRD schema.
 */
import type { V1Affinity, V1LocalObjectReference, V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node'

export interface ResourceList {
  [name: string]: string | number
}

export interface Resources {
  requests?: ResourceList
  limits?: ResourceList
}

export interface PodSecuritySpec {
  runAsUser: number
  runAsGroup: number
  fsGroup: number
  readOnlyRootFilesystem: boolean
  allowRoot: boolean
}

export interface SchedulingSpec {
  nodeSelector?: Record<string, string>
  tolerations?: V1Toleration[]
  affinity?: V1Affinity
  topologySpreadConstraints?: V1TopologySpreadConstraint[]
  priorityClassName?: string
  imagePullSecrets?: V1LocalObjectReference[]
  podAnnotations?: Record<string, string>
  podLabels?: Record<string, string>
}
