/**
 * TypeScript view of a MoneroMiningNodeSet spec after the schema defaults were applied
 * (./crd.ts is the schema; spec.test.ts checks the two agree).
 */
import type { V1EnvVar } from '@kubernetes/client-node'
import type { PodSecuritySpec, Resources, SchedulingSpec } from '../api/types.js'

/** A key of a Secret in the resource's namespace. */
export interface SecretKeyRef {
  name: string
  key: string
}

export interface XmrigSpec {
  image: string
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  args?: string[]
  env?: V1EnvVar[]
  /** Absent: the operator's defaults (see defaultXmrigResources). */
  resources?: Resources
}

/** One pool, rendered to xmrig's -o/-u/-p/--tls/--tls-fingerprint/--coin. */
export interface PoolSpec {
  url: string
  user: string
  passwordSecretRef?: SecretKeyRef
  tls?: boolean
  tlsFingerprint?: string
  coin?: string
}

export interface MoneroMiningNodeSetSpec extends SchedulingSpec {
  replicas: number
  hardAntiAffinity: boolean
  maxUnavailable?: number | string
  xmrig: XmrigSpec
  pool?: PoolSpec
  threads?: number
  maxThreadsHint?: number
  donateLevel?: number
  hugePages: { enabled: boolean; pages?: number }
  api: { enabled: boolean; port: number; accessTokenSecretRef?: SecretKeyRef }
  metrics: { enabled: boolean; port: number; podMonitor?: { enabled: boolean; interval?: string; labels?: Record<string, string> } }
  msr: { enabled: boolean }
  podSecurity: PodSecuritySpec
}
