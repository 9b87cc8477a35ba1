/**
 * `soloMining`: the opt-in that lets xmrig solo-mine (`--daemon`) against a node. Solo mining
 * calls get_block_template / submit_block, which monerod serves only on its unrestricted RPC.
 * With the opt-in, monerod binds that RPC on the pod's addresses (monerod-container.ts) and
 * the set gets a NetworkPolicy that admits the named MoneroMiningNodeSets' pods, and no one
 * else, to it, while every other port of the pod stays open as before.
 *
 * The policy restricts only on a cluster whose network plugin enforces NetworkPolicy. The
 * rules of `soloMining` are in ../node-spec/rules.ts.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node'
import { selectorLabels } from '../labels.js'
import { soloMiningPolicyName } from '../names.js'

/** A NetworkPolicy as sent (the client library's type spells `from` as `_from`). */
export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1'
  kind: 'NetworkPolicy'
  metadata: { name: string; namespace: string; labels: Record<string, string> }
  spec: {
    podSelector: { matchLabels: Record<string, string> }
    policyTypes: ['Ingress']
    ingress: { from?: { podSelector: { matchLabels: Record<string, string> } }[]; ports: PolicyPort[] }[]
  }
}

interface PolicyPort {
  protocol: string
  port: number
}

export interface SoloMiningPolicyInput {
  readonly namespace: string
  readonly workload: string
  readonly labels: Record<string, string>
  /** Selects the set's pods. */
  readonly selector: Record<string, string>
  /** The pod template the builder made: every port it declares except the RPC stays open. */
  readonly template: V1PodTemplateSpec
  /** monerod's unrestricted RPC port. */
  readonly rpcPort: number
  /** Names of the MoneroMiningNodeSets admitted to the RPC port. */
  readonly miners: readonly string[]
}

/**
 * The NetworkPolicy of a set with soloMining: once a policy selects a pod, the pod accepts
 * only what some policy admits, so rule 1 admits anyone to each other declared port (P2P,
 * restricted RPC, metrics, sidecars) and rule 2 admits the miners' pods to the unrestricted
 * RPC. Ports are numbers with their protocol, in the pod template's order, as the apiserver
 * stores them (no update on every sync).
 */
export function buildSoloMiningPolicy(input: SoloMiningPolicyInput): NetworkPolicy {
  const pod = input.template.spec
  const containers = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]
  const open: PolicyPort[] = []
  const seen = new Set<string>()
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP'
      const key = `${protocol}/${p.containerPort}`
      if ((protocol === 'TCP' && p.containerPort === input.rpcPort) || seen.has(key)) continue
      seen.add(key)
      open.push({ protocol, port: p.containerPort })
    }
  }
  const miners = [...new Set(input.miners)]
  // An empty `from` admits every source: never emit one for the unrestricted RPC, even if a
  // caller skipped the spec rule that requires miners.
  if (miners.length === 0) throw new Error('buildSoloMiningPolicy: no miners named; an empty `from` would open the unrestricted RPC to every pod')
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: soloMiningPolicyName(input.workload), namespace: input.namespace, labels: input.labels },
    spec: {
      podSelector: { matchLabels: input.selector },
      policyTypes: ['Ingress'],
      ingress: [
        ...(open.length > 0 ? [{ ports: open }] : []),
        {
          from: miners.map((instance) => ({
            podSelector: { matchLabels: selectorLabels({ kind: 'monerominingnodeset', instance, app: 'xmrig', component: 'miner' }) },
          })),
          ports: [{ protocol: 'TCP', port: input.rpcPort }],
        },
      ],
    },
  }
}
