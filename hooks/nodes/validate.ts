/**
 * The CRD's CEL rules on a node spec, checked again in the hook with the same messages: the
 * apiserver enforces them on apply, but `render` and requests from older CRD versions go
 * through the hook alone. (Rules comparing with the old object, like storage.size, can only
 * run in the apiserver.)
 */
import type { V1EnvVar } from '@kubernetes/client-node'
import type { NodeSpec } from '../api/types.js'
import { SpecError } from './monerod-container.js'
import { checkSoloMining } from './solo-mining.js'

const RESERVED_LABEL = /^(app\.kubernetes\.io|utxo\.com\.br)\//
const TAKEN_PORTS = new Set([18080, 18081, 18082, 18083, 18084, 18085, 18089, 28080, 28081, 28082, 28089, 38080, 38081, 38082, 38089, 4447, 7070, 9050])

/** Env entries: value or valueFrom, not both; names unique (a list-map keyed by name). */
export function checkEnv(env: readonly V1EnvVar[] | undefined, field: string): void {
  const seen = new Set<string>()
  ;(env ?? []).forEach((e, i) => {
    if (e.value !== undefined && e.valueFrom !== undefined) {
      throw new SpecError(`${field}[${i}]`, 'env: set either value or valueFrom, not both')
    }
    if (seen.has(e.name)) throw new SpecError(`${field}[${i}]`, `duplicate env name ${JSON.stringify(e.name)}`)
    seen.add(e.name)
  })
}

/** Labels users may add to pods: not under the operator's prefixes. */
export function checkPodLabels(labels: Record<string, string> | undefined, field: string): void {
  for (const key of Object.keys(labels ?? {})) {
    if (RESERVED_LABEL.test(key)) {
      throw new SpecError(`${field}.${key}`, `${field.split('.').pop()}: keys under app.kubernetes.io/ and utxo.com.br/ are reserved for the operator`)
    }
  }
}

/** Every CEL rule of the shared node spec that looks only at the new object. */
export function checkNodeSpec(spec: NodeSpec, path: string): void {
  checkEnv(spec.monerod.env, `${path}.monerod.env`)
  checkPodLabels(spec.podLabels, `${path}.podLabels`)
  const svc = spec.service
  if (!svc.p2p && !svc.restrictedRpc) throw new SpecError(`${path}.service`, 'service: expose at least one of p2p and restrictedRpc')
  if (svc.externalTrafficPolicy !== undefined && svc.type === 'ClusterIP') {
    throw new SpecError(`${path}.service.externalTrafficPolicy`, 'service.externalTrafficPolicy applies only to NodePort and LoadBalancer services')
  }
  if (svc.loadBalancerSourceRanges !== undefined && svc.type !== 'LoadBalancer') {
    throw new SpecError(`${path}.service.loadBalancerSourceRanges`, 'service.loadBalancerSourceRanges applies only to LoadBalancer services')
  }
  const m = spec.metrics
  if (m.podMonitor?.enabled && !m.enabled) {
    throw new SpecError(`${path}.metrics.podMonitor`, 'metrics.podMonitor needs metrics.enabled: true (it scrapes the exporter sidecar)')
  }
  if (TAKEN_PORTS.has(m.port)) throw new SpecError(`${path}.metrics.port`, 'metrics.port collides with a monerod, tor or i2pd port')
  checkSoloMining(spec, path)
}
