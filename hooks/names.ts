/**
 * Every child object name in one place. Names derive from the parent's name only, so they
 * are stable across syncs, operator upgrades and spec changes (no generateName).
 */

/** The longest parent name we accept (CRD rule): keeps every derived name within DNS limits. */
export const MAX_PARENT_NAME = 40

/** Per kind: the suffix of its workload, chosen so kinds sharing a name never collide. */
export const WORKLOAD_SUFFIX = {
  MoneroNodeSet: 'monerod',
  MoneroNetwork: 'peer',
  MoneroMiningNodeSet: 'xmrig',
} as const

export type WorkloadKind = keyof typeof WORKLOAD_SUFFIX

/** StatefulSet/Deployment of a parent; also its client Service and PDB. */
export function workloadName(kind: WorkloadKind, parentName: string): string {
  return `${parentName}-${WORKLOAD_SUFFIX[kind]}`
}

/** The governing headless Service of a StatefulSet (stable pod DNS). */
export function headlessServiceName(workload: string): string {
  return `${workload}-headless`
}

/** The pod name of replica `index` of a StatefulSet (and of its per-replica Service). */
export function podName(workload: string, index: number): string {
  return `${workload}-${index}`
}

/** ConfigMap holding a network's shared peer list. */
export function peersConfigMapName(workload: string): string {
  return `${workload}-peers`
}

/** ConfigMap with the rendered tor/i2pd configuration. */
export function anonymityConfigMapName(workload: string): string {
  return `${workload}-anonymity`
}

/** Secret with the Tor/I2P hidden-service keys of every replica (`<replica>.<file>` entries). */
export function hiddenServicesSecretName(workload: string): string {
  return `${workload}-hidden-services`
}

/** NetworkPolicy of a node set with soloMining (admits the miners to the unrestricted RPC). */
export function soloMiningPolicyName(workload: string): string {
  return `${workload}-solo-mining`
}

/** Name of the data volume claim template; PVCs are `<this>-<pod>`. */
export const DATA_VOLUME = 'data'
