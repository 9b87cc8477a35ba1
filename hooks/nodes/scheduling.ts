import type { V1Affinity, V1PodSpec, V1WeightedPodAffinityTerm, V1PodAffinityTerm } from '@kubernetes/client-node'
import type { SchedulingSpec } from '../api/types.js'

const HOSTNAME = 'kubernetes.io/hostname'

/**
 * On the pods of a set with hardAntiAffinity, and in the selector of their required term.
 *
 * The scheduler also checks the required anti-affinity of pods already running against a new
 * pod. Were the term to select every pod of the set, turning hardAntiAffinity off would stall
 * on a small cluster: a running pod of the old revision would keep each replacement off its
 * node, and the StatefulSet controller waits for the replacement before it replaces that pod.
 * Selecting only pods that carry this label lets the replacements (which no longer carry it)
 * schedule next to the old pods, while pods that are all hard still repel each other.
 */
export const HARD_ANTI_AFFINITY_LABEL = 'utxo.com.br/anti-affinity'

/** The pod labels that go with {@link buildAffinity}: the marker above when hard, none otherwise. */
function antiAffinityLabels(hard: boolean): Record<string, string> {
  return hard ? { [HARD_ANTI_AFFINITY_LABEL]: 'required' } : {}
}

/**
 * Anti-affinity between the pods of one set on kubernetes.io/hostname (required when hard,
 * preferred otherwise), combined with the user's own affinity: their node and pod affinity
 * are kept and their anti-affinity terms are added to ours. The pods must also carry
 * {@link antiAffinityLabels}: {@link buildPodPlacement} gives both.
 */
export function buildAffinity(selector: Record<string, string>, hard: boolean, user?: V1Affinity): V1Affinity {
  const requiredTerm: V1PodAffinityTerm = { topologyKey: HOSTNAME, labelSelector: { matchLabels: { ...selector, ...antiAffinityLabels(true) } } }
  const preferredTerm: V1PodAffinityTerm = { topologyKey: HOSTNAME, labelSelector: { matchLabels: selector } }
  const userAnti = user?.podAntiAffinity
  const required = [...(hard ? [requiredTerm] : []), ...(userAnti?.requiredDuringSchedulingIgnoredDuringExecution ?? [])]
  const preferred: V1WeightedPodAffinityTerm[] = [
    ...(hard ? [] : [{ weight: 100, podAffinityTerm: preferredTerm }]),
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

/** Where a set's pods may run: the labels the pods must carry for it, and the pod spec's scheduling fields. */
export interface PodPlacement {
  /** Added to the pod template's labels (the hard anti-affinity marker, when hard). */
  readonly labels: Record<string, string>
  /** Spread into the pod spec. */
  readonly podSpec: Pick<V1PodSpec, 'affinity' | 'nodeSelector' | 'tolerations' | 'priorityClassName' | 'imagePullSecrets' | 'topologySpreadConstraints'>
}

/**
 * The placement of a set's pods: the scheduling fields passed through from the resource with
 * our anti-affinity, and the pod labels that anti-affinity relies on, from one call so that
 * neither goes without the other.
 */
export function buildPodPlacement(s: SchedulingSpec, selector: Record<string, string>, hardAntiAffinity: boolean): PodPlacement {
  return { labels: antiAffinityLabels(hardAntiAffinity), podSpec: buildScheduling(s, selector, hardAntiAffinity) }
}

/** The scheduling fields of a pod spec, passed through from the resource. */
function buildScheduling(s: SchedulingSpec, selector: Record<string, string>, hardAntiAffinity: boolean): PodPlacement['podSpec'] {
  return {
    affinity: buildAffinity(selector, hardAntiAffinity, s.affinity),
    // Empty maps and lists are left out: the apiserver does not store them, so sending them
    // would make Metacontroller update the workload on every sync.
    ...(s.nodeSelector && Object.keys(s.nodeSelector).length > 0 ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.tolerations && s.tolerations.length > 0 ? { tolerations: s.tolerations } : {}),
    ...(s.priorityClassName ? { priorityClassName: s.priorityClassName } : {}),
    ...(s.imagePullSecrets && s.imagePullSecrets.length > 0 ? { imagePullSecrets: s.imagePullSecrets } : {}),
    ...(s.topologySpreadConstraints && s.topologySpreadConstraints.length > 0
      ? {
          topologySpreadConstraints: s.topologySpreadConstraints.map((c) => ({
            ...c,
            labelSelector: c.labelSelector ?? { matchLabels: selector },
          })),
        }
      : {}),
  }
}
