/**
 * TypeScript view of the shared node spec after defaulting (./schema.ts is its schema;
 * hooks/api/types.test.ts checks the two agree).
 */
import type { V1EnvVar } from '@kubernetes/client-node'
import type { PodSecuritySpec, Resources, SchedulingSpec } from '../api/types.js'

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
