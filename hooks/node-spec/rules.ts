/**
 * The rules of the shared node spec (MoneroNodeSet at `spec`, MoneroNetwork at
 * `spec.template.spec`), each stated once (see ../rules.ts): the CRD builder puts the CEL in
 * the schema and the hook runs the same check, because `render` and requests from older CRD
 * versions go through the hook alone. Rules comparing with the old object (storage.size,
 * storage.storageClassName) can only run in the apiserver: they stay CEL-only in the schema.
 */
import type { MetricsSpec, NodeSpec, ServiceSpec, SoloMiningSpec } from '../node-spec/types.js'
import { checkEnv, checkPodLabels, PODMONITOR_RULE } from '../api/schema-parts.js'
import { checkRules, type SpecRule } from '../rules.js'

/** Ports of monerod (every nettype), tor and i2pd in a node pod: the exporter may not take one. */
const TAKEN_PORTS = [18080, 18081, 18082, 18083, 18084, 18085, 18089, 28080, 28081, 28082, 28089, 38080, 38081, 38082, 38089, 4447, 7070, 9050]

// defaults are checked against these rules before nested defaults apply: guard with has()

/** Rules on `service`. */
export const SERVICE_RULES: readonly SpecRule<ServiceSpec>[] = [
  {
    field: '',
    rule: '!has(self.p2p) || !has(self.restrictedRpc) || self.p2p || self.restrictedRpc',
    holds: (s) => s.p2p || s.restrictedRpc,
    message: 'service: expose at least one of p2p and restrictedRpc',
  },
  {
    field: 'externalTrafficPolicy',
    rule: "!has(self.externalTrafficPolicy) || (has(self.type) && self.type != 'ClusterIP')",
    holds: (s) => s.externalTrafficPolicy === undefined || s.type !== 'ClusterIP',
    message: 'service.externalTrafficPolicy applies only to NodePort and LoadBalancer services',
  },
  {
    field: 'loadBalancerSourceRanges',
    rule: "!has(self.loadBalancerSourceRanges) || (has(self.type) && self.type == 'LoadBalancer')",
    holds: (s) => s.loadBalancerSourceRanges === undefined || s.type === 'LoadBalancer',
    message: 'service.loadBalancerSourceRanges applies only to LoadBalancer services',
  },
]

/** Rules on `metrics`. */
export const METRICS_RULES: readonly SpecRule<MetricsSpec>[] = [
  PODMONITOR_RULE,
  {
    field: 'port',
    rule: `!has(self.port) || !(self.port in [${TAKEN_PORTS.join(', ')}])`,
    holds: (m) => !TAKEN_PORTS.includes(m.port),
    message: 'metrics.port collides with a monerod, tor or i2pd port',
  },
]

/** Rules on `soloMining`. */
export const SOLO_MINING_RULES: readonly SpecRule<SoloMiningSpec>[] = [
  {
    field: 'miners',
    rule: '!has(self.enabled) || !self.enabled || (has(self.miners) && size(self.miners) > 0)',
    holds: (s) => !s.enabled || (s.miners ?? []).length > 0,
    message: 'soloMining.enabled needs soloMining.miners: the names of the MoneroMiningNodeSets in this namespace whose pods may reach the unrestricted RPC',
  },
]

/** Every rule of the node spec at `path` that looks only at the new object. */
export function checkNodeSpec(spec: NodeSpec, path: string): void {
  checkEnv(spec.monerod.env, `${path}.monerod.env`)
  checkPodLabels(spec.podLabels, `${path}.podLabels`)
  checkRules(SERVICE_RULES, spec.service, `${path}.service`)
  checkRules(METRICS_RULES, spec.metrics, `${path}.metrics`)
  if (spec.soloMining) checkRules(SOLO_MINING_RULES, spec.soloMining, `${path}.soloMining`)
}
