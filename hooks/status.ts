/**
 * Status from observed children only, deterministic: the same request gives byte-identical
 * status. A condition keeps its lastTransitionTime unless its status flips; a flip is stamped
 * with the `now` the route passes in (the only clock read, at the edge).
 */
import { selectorString } from './labels.js'
import { observedByName, type KubeObject } from './metacontroller.js'

export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason: string
  message: string
  lastTransitionTime: string
  observedGeneration?: number
}

type NewCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>

/** Carries lastTransitionTime over from the previous status unless the status flipped. */
export function mergeConditions(previous: unknown, next: readonly NewCondition[], now: string, generation: number | undefined): Condition[] {
  const prev = Array.isArray(previous) ? (previous as Partial<Condition>[]) : []
  return next.map((c) => {
    const old = prev.find((p) => p && p.type === c.type)
    const kept = old && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: kept,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    }
  })
}

/** Replica counts of an observed StatefulSet or Deployment. */
export interface ReplicaCounts {
  replicas: number
  readyReplicas: number
  updatedReplicas: number
  availableReplicas: number
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

/** Reads replica counts (0 when the workload does not exist yet). */
export function readReplicaCounts(workload: KubeObject | undefined): ReplicaCounts & { settled: boolean; exists: boolean } {
  const status = (workload?.status ?? {}) as Record<string, unknown>
  const generation = workload?.metadata.generation
  const updateRevision = status.updateRevision
  const currentRevision = status.currentRevision
  return {
    exists: workload !== undefined,
    replicas: num(status.replicas),
    readyReplicas: num(status.readyReplicas),
    updatedReplicas: num(status.updatedReplicas),
    availableReplicas: num(status.availableReplicas),
    // The workload controller has seen the latest spec and finished the revision change.
    settled:
      workload !== undefined &&
      (generation === undefined || num(status.observedGeneration) >= generation) &&
      (updateRevision === undefined || currentRevision === undefined || updateRevision === currentRevision),
  }
}

/** Ready / Progressing / Degraded of a replicated workload, from its observed counts. */
export function computeWorkloadConditions(desired: number, counts: ReturnType<typeof readReplicaCounts>, noun: string, previous: unknown): NewCondition[] {
  const prev = Array.isArray(previous) ? (previous as Partial<Condition>[]) : []
  const wasHealthy = prev.some((c) => (c?.type === 'Ready' || c?.type === 'Degraded') && c.status === 'True')
  if (!counts.exists) {
    return [
      { type: 'Ready', status: 'False', reason: 'Creating', message: `waiting for the ${noun} workload to be created` },
      { type: 'Progressing', status: 'True', reason: 'Creating', message: `creating ${desired} ${noun}(s)` },
      { type: 'Degraded', status: 'False', reason: 'Creating', message: 'nothing observed yet' },
    ]
  }
  const allReady = counts.readyReplicas >= desired && counts.updatedReplicas >= desired && counts.replicas === desired
  const done = allReady && counts.settled
  const ready: NewCondition = done
    ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${counts.readyReplicas}/${desired} ${noun}s ready` }
    : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `${counts.readyReplicas}/${desired} ${noun}s ready` }
  const progressing: NewCondition = done
    ? { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: 'all replicas run the latest spec' }
    : counts.replicas !== desired
      ? { type: 'Progressing', status: 'True', reason: 'Scaling', message: `scaling from ${counts.replicas} to ${desired}` }
      : counts.updatedReplicas < desired || !counts.settled
        ? { type: 'Progressing', status: 'True', reason: 'RollingUpdate', message: `${counts.updatedReplicas}/${desired} replicas updated` }
        : { type: 'Progressing', status: 'True', reason: 'WaitingForReady', message: `${counts.readyReplicas}/${desired} ready` }
  // Degraded: the set had been ready (or degraded) and, with no rollout or scaling going on,
  // replicas lost readiness (crash loops, failing probes, evicted pods). A set that is still
  // coming up for the first time is Progressing, not Degraded.
  const degraded: NewCondition =
    !done && wasHealthy && counts.settled && counts.updatedReplicas >= desired && counts.replicas === desired && counts.readyReplicas < desired
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'ReplicasUnavailable',
          message: `${desired - counts.readyReplicas} of ${desired} ${noun}s not ready`,
        }
      : { type: 'Degraded', status: 'False', reason: done ? 'AsExpected' : 'RolloutInProgress', message: done ? 'all replicas ready' : 'rollout in progress' }
  return [ready, progressing, degraded]
}

/**
 * The status every kind shares, from its observed StatefulSet: replica counts, the pod
 * selector string (scale subresource) and the conditions. Kinds add their own fields.
 */
export function computeWorkloadStatus(input: {
  parent: KubeObject & { status?: Record<string, unknown> }
  children: Parameters<typeof observedByName>[0]
  workload: string
  desired: number
  selector: Record<string, string>
  noun: string
  now: string
  /** The set's Pods, when the sync request carries them (a customize hook asked for them). */
  pods?: Record<string, KubeObject> | undefined
}): Record<string, unknown> {
  const counts = readReplicaCounts(observedByName(input.children, 'apps/v1', 'StatefulSet').get(input.workload))
  const previous = input.parent.status?.conditions
  const scheduled = input.pods !== undefined ? computeScheduledCondition(input.pods, input.selector, input.noun) : undefined
  return {
    replicas: counts.replicas,
    readyReplicas: counts.readyReplicas,
    updatedReplicas: counts.updatedReplicas,
    availableReplicas: counts.availableReplicas,
    selector: selectorString(input.selector),
    conditions: mergeConditions(
      previous,
      [...computeWorkloadConditions(input.desired, counts, input.noun, previous), ...(scheduled ? [scheduled] : []), SYNCED],
      input.now,
      input.parent.metadata.generation,
    ),
  }
}

/**
 * `PodsScheduled`: whether every pod of the set has a node. False lists the pods the scheduler
 * could not place, with its own message (anti-affinity, resources, taints), so the reason is on
 * the resource and not only in `kubectl describe pod`. Pods are read from the sync request's
 * related objects; those not matching the set's selector are ignored.
 */
export function computeScheduledCondition(pods: Record<string, KubeObject>, selector: Record<string, string>, noun: string): NewCondition {
  const own = Object.values(pods)
    .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
  const waiting = new Map<string, string[]>()
  const reasons = new Set<string>()
  for (const pod of own) {
    const conditions = (pod.status as { conditions?: unknown } | undefined)?.conditions
    const c = Array.isArray(conditions)
      ? (conditions as { type?: unknown; status?: unknown; reason?: unknown; message?: unknown }[]).find((x) => x?.type === 'PodScheduled')
      : undefined
    if (c?.status !== 'False') continue
    const message = typeof c.message === 'string' && c.message !== '' ? c.message : 'not scheduled yet'
    waiting.set(message, [...(waiting.get(message) ?? []), pod.metadata.name])
    reasons.add(typeof c.reason === 'string' && c.reason !== '' ? c.reason : 'Unschedulable')
  }
  if (waiting.size === 0) {
    return { type: 'PodsScheduled', status: 'True', reason: 'AllScheduled', message: `every ${noun} pod has a node (${own.length})` }
  }
  const count = [...waiting.values()].reduce((n, names) => n + names.length, 0)
  const detail = [...waiting].map(([message, names]) => `${names.join(', ')}: ${message}`).join('; ')
  const message = `${count} of ${own.length} ${noun} pods cannot be scheduled: ${detail}`
  return {
    type: 'PodsScheduled',
    status: 'False',
    reason: reasons.size === 1 ? [...reasons][0]! : 'Unschedulable',
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
  }
}

/**
 * `Synced`: whether the hook accepted the current spec. True on every sync that rendered the
 * children; False (with the reason and the field at fault) when the spec was refused and the
 * children were kept exactly as last applied.
 */
export const SYNCED: NewCondition = {
  type: 'Synced',
  status: 'True',
  reason: 'SpecAccepted',
  message: 'the children are rendered from the current spec',
}

/** Longest condition message we write (the schema allows 32768). */
const MAX_MESSAGE = 4096

/**
 * Status of a resource whose spec was refused: the children are kept as last applied, so
 * replica counts and Ready/Progressing/Degraded describe the observed workload as usual (its
 * desired size is the observed StatefulSet's), `Synced=False` says why, and the fields only
 * a sync of the spec can compute (nettype, peers, pool, hidden services) keep their values,
 * since the children they describe are unchanged.
 */
export function computeRefusedStatus(input: {
  parent: KubeObject & { status?: Record<string, unknown> }
  children: Parameters<typeof observedByName>[0]
  workload: string
  noun: string
  reason: string
  message: string
  now: string
  /** The set's Pods, when the sync request carries them: PodsScheduled stays on the resource. */
  pods?: Record<string, KubeObject> | undefined
}): Record<string, unknown> {
  const workload = observedByName(input.children, 'apps/v1', 'StatefulSet').get(input.workload)
  const counts = readReplicaCounts(workload)
  const previous = (input.parent.status ?? {}) as Record<string, unknown>
  // Recomputed below, or set by Metacontroller (observedGeneration).
  const {
    replicas: _r,
    readyReplicas: _rr,
    updatedReplicas: _ur,
    availableReplicas: _ar,
    selector: previousSelector,
    conditions: previousConditions,
    observedGeneration: _og,
    ...kept
  } = previous
  const spec = (workload?.spec ?? {}) as { replicas?: unknown; selector?: { matchLabels?: unknown } }
  const desired = typeof spec.replicas === 'number' && Number.isSafeInteger(spec.replicas) ? spec.replicas : counts.replicas
  const matchLabels = spec.selector?.matchLabels
  const podSelector =
    typeof matchLabels === 'object' && matchLabels !== null && Object.values(matchLabels).every((v) => typeof v === 'string')
      ? (matchLabels as Record<string, string>)
      : undefined
  const selector = podSelector ? selectorString(podSelector) : typeof previousSelector === 'string' ? previousSelector : undefined
  // The pods of the workload as it runs (the refused spec changed nothing), so the scheduler's
  // reason does not vanish from the resource while the spec is being fixed.
  const scheduled = input.pods !== undefined && podSelector ? computeScheduledCondition(input.pods, podSelector, input.noun) : undefined
  const message = input.message.length > MAX_MESSAGE ? `${input.message.slice(0, MAX_MESSAGE - 3)}...` : input.message
  const workloadConditions: NewCondition[] = counts.exists
    ? computeWorkloadConditions(desired, counts, input.noun, previousConditions)
    : [
        { type: 'Ready', status: 'False', reason: 'SpecRefused', message: `no ${input.noun} was created: the spec was refused (see Synced)` },
        { type: 'Progressing', status: 'False', reason: 'SpecRefused', message: 'nothing to do until the spec is fixed' },
        { type: 'Degraded', status: 'False', reason: 'SpecRefused', message: 'nothing runs yet' },
      ]
  return {
    ...kept,
    replicas: counts.replicas,
    readyReplicas: counts.readyReplicas,
    updatedReplicas: counts.updatedReplicas,
    availableReplicas: counts.availableReplicas,
    ...(selector !== undefined ? { selector } : {}),
    conditions: mergeConditions(
      previousConditions,
      [...workloadConditions, ...(scheduled ? [scheduled] : []), { type: 'Synced', status: 'False', reason: input.reason, message }],
      input.now,
      input.parent.metadata.generation,
    ),
  }
}
