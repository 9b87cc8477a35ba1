/**
 * TypeScript view of our CRD specs after the apiserver (or the hook's validator) applied the
 * schema defaults. hooks/api/types.test.ts checks them against the CRD schema.
 */
import type { V1Affinity, V1EnvVar, V1LocalObjectReference, V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node'

export interface ResourceList {
  [name: string]: string | number
}

export interface Resources {
  requests?: ResourceList
  limits?: ResourceList
}

export interface MonerodSpec {
  image: string
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  args?: string[]
  env?: V1EnvVar[]
  resources: Resources
}

export interface StorageSpec {
  size: string | number
  storageClassName?: string
  retention: { whenDeleted: 'Retain' | 'Delete'; whenScaled: 'Retain' | 'Delete' }
}

export interface ServiceSpec {
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer'
  annotations?: Record<string, string>
  p2p: boolean
  restrictedRpc: boolean
  externalTrafficPolicy?: 'Cluster' | 'Local'
  loadBalancerSourceRanges?: string[]
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

export interface MetricsSpec {
  enabled: boolean
  port: number
  image?: string
  readiness: 'rpc' | 'synchronized'
  podMonitor?: { enabled: boolean; interval?: string; labels?: Record<string, string> }
}

/** `spec.tor` / `spec.i2p` after defaulting. */
export interface AnonymitySpec {
  enabled: boolean
  image?: string
  publish: { p2p: boolean; restrictedRpc: boolean }
  maxConnections: number
  inboundMaxConnections: number
  keysSecretName?: string
  rotation: string
}

/** `spec.soloMining`: the unrestricted RPC opened to the named MoneroMiningNodeSets' pods. */
export interface SoloMiningSpec {
  enabled: boolean
  miners?: string[]
}

/** One monerod replica's settings: a MoneroNodeSet spec without replicas. */
export interface NodeSpec extends SchedulingSpec {
  metrics: MetricsSpec
  tor: AnonymitySpec
  i2p: AnonymitySpec
  soloMining: SoloMiningSpec
  hardAntiAffinity: boolean
  monerod: MonerodSpec
  storage: StorageSpec
  service: ServiceSpec
  podSecurity: PodSecuritySpec
  terminationGracePeriodSeconds: number
}

export interface MoneroNodeSetSpec extends NodeSpec {
  replicas: number
}

export interface MoneroNetworkSpec {
  replicas: number
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }
    spec: NodeSpec
  }
}
