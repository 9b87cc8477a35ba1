import type { V1Affinity, V1PodSpec, V1WeightedPodAffinityTerm, V1PodAffinityTerm } from '@kubernetes/client-node'
import type { SchedulingSpec } from '../api/types.js'

const HOSTNAME = 'kubernetes.io/hostname'

/**
 * Anti-affinity between the pods of one set on kubernetes.io/hostname (required when hard,
 * preferred otherwise), combined with the user's own affinity: their node and pod affinity
 * are kept and their anti-affinity terms are added to ours.
 */
export function buildAffinity(selector: Record<string, string>, hard: boolean, user?: V1Affinity): V1Affinity {
  const term: V1PodAffinityTerm = { topologyKey: HOSTNAME, labelSelector: { matchLabels: selector } }
  const userAnti = user?.podAntiAffinity
  const required = [...(hard ? [term] : []), ...(userAnti?.requiredDuringSchedulingIgnoredDuringExecution ?? [])]
  const preferred: V1WeightedPodAffinityTerm[] = [
    ...(hard ? [] : [{ weight: 100, podAffinityTerm: term }]),
    ...(userAnti?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
  ]
  return {
    ...(user?.nodeAffinity ? { nodeAffinity: user.nodeAffinity } : {}),
    ...(user?.podAffinity ? { podAffinity: user.podAffinity } : {}),
    podAntiAffinity: {
      ...(required.length > 0 ? { requiredDuringSchedulingIgnoredDuringExecution: required } : {}),
      ...(preferred.length > 0 ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
    },
  }
}

/** The scheduling fields of a pod spec, passed through from the resource. */
export function buildScheduling(
  s: SchedulingSpec,
  selector: Record<string, string>,
  hardAntiAffinity: boolean,
): Pick<V1PodSpec, 'affinity' | 'nodeSelector' | 'tolerations' | 'priorityClassName' | 'imagePullSecrets' | 'topologySpreadConstraints'> {
  return {
    affinity: buildAffinity(selector, hardAntiAffinity, s.affinity),
    ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.tolerations ? { tolerations: s.tolerations } : {}),
    ...(s.priorityClassName ? { priorityClassName: s.priorityClassName } : {}),
    ...(s.imagePullSecrets ? { imagePullSecrets: s.imagePullSecrets } : {}),
    ...(s.topologySpreadConstraints
      ? {
          topologySpreadConstraints: s.topologySpreadConstraints.map((c) => ({
            ...c,
            labelSelector: c.labelSelector ?? { matchLabels: selector },
          })),
        }
      : {}),
  }
}
