/**
 * spec.maxUnavailable of a MoneroMiningNodeSet on the StatefulSet's rolling updates.
 *
 * `updateStrategy.rollingUpdate.maxUnavailable` of a StatefulSet only exists where the
 * apiserver runs with the MaxUnavailableStatefulSet feature gate (alpha, off by default in
 * Kubernetes 1.34). Elsewhere the apiserver silently drops it: the user's setting does
 * nothing, and a hook that kept sending it would make Metacontroller see a difference with the
 * stored StatefulSet and update it on every sync, forever.
 *
 * So, from the observed StatefulSet only (pure):
 * - no spec.maxUnavailable: nothing is sent;
 * - otherwise the value is sent, with the annotation REQUESTED = the value, on create and as
 *   long as the observed StatefulSet stores the field (or was never sent this value);
 * - once an observed StatefulSet carries REQUESTED = the value but does not store the field,
 *   the apiserver dropped it: from then on the field is not sent and the annotation IGNORED =
 *   the value is sent instead (one annotation-only update, no rollout), and the parent's status
 *   gets the condition MaxUnavailableIgnored=True saying why.
 * Changing spec.maxUnavailable (or removing and re-adding it) tries again, e.g. after the
 * feature gate was turned on.
 */
import { API_GROUP } from '../api/group.js'
import type { KubeObject } from '../metacontroller.js'

/** On the StatefulSet: the maxUnavailable value sent along with the field. */
export const MAX_UNAVAILABLE_REQUESTED_ANNOTATION = `${API_GROUP}/max-unavailable-requested`
/** On the StatefulSet: the maxUnavailable value the apiserver dropped (not sent any more). */
export const MAX_UNAVAILABLE_IGNORED_ANNOTATION = `${API_GROUP}/max-unavailable-ignored`
/** Parent condition, present while spec.maxUnavailable is set. */
export const MAX_UNAVAILABLE_CONDITION = 'MaxUnavailableIgnored'
export const FEATURE_GATE = 'MaxUnavailableStatefulSet'

export type MaxUnavailablePlan =
  | { readonly state: 'unset' }
  /** Sent; `stored`: the observed StatefulSet stores it (the cluster honours it). */
  | { readonly state: 'sent'; readonly value: number | string; readonly stored: boolean }
  /** The apiserver dropped it: not sent. */
  | { readonly state: 'ignored'; readonly value: number | string }

type Json = Record<string, unknown>

function storedMaxUnavailable(sts: KubeObject): unknown {
  const spec = sts.spec as Json | undefined
  const strategy = spec?.updateStrategy as Json | undefined
  const rolling = strategy?.rollingUpdate as Json | undefined
  return rolling?.maxUnavailable
}

/** What to do with spec.maxUnavailable, given the observed StatefulSet (undefined before it exists). */
export function planMaxUnavailable(value: number | string | undefined, observed: KubeObject | undefined): MaxUnavailablePlan {
  if (value === undefined) return { state: 'unset' }
  if (!observed) return { state: 'sent', value, stored: false }
  const text = String(value)
  const annotations = observed.metadata.annotations ?? {}
  const stored = storedMaxUnavailable(observed) !== undefined
  if (stored) return { state: 'sent', value, stored: true }
  if (annotations[MAX_UNAVAILABLE_IGNORED_ANNOTATION] === text) return { state: 'ignored', value }
  if (annotations[MAX_UNAVAILABLE_REQUESTED_ANNOTATION] === text) return { state: 'ignored', value }
  // Never sent this value (new field, changed value, or a StatefulSet from an older version): try it.
  return { state: 'sent', value, stored: false }
}

/** The StatefulSet's maxUnavailable field and annotations for a plan. */
export function statefulSetRollout(plan: MaxUnavailablePlan): { maxUnavailable?: number | string; annotations: Record<string, string> } {
  switch (plan.state) {
    case 'unset':
      return { annotations: {} }
    case 'sent':
      return { maxUnavailable: plan.value, annotations: { [MAX_UNAVAILABLE_REQUESTED_ANNOTATION]: String(plan.value) } }
    case 'ignored':
      return { annotations: { [MAX_UNAVAILABLE_IGNORED_ANNOTATION]: String(plan.value) } }
  }
}

/** The parent condition for a plan (none while spec.maxUnavailable is unset). */
export function maxUnavailableCondition(
  plan: MaxUnavailablePlan,
): { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string } | undefined {
  switch (plan.state) {
    case 'unset':
      return undefined
    case 'sent':
      return plan.stored
        ? {
            type: MAX_UNAVAILABLE_CONDITION,
            status: 'False',
            reason: 'Applied',
            message: `rolling updates replace up to ${plan.value}${String(plan.value).endsWith('%') ? ' of the' : ''} miners at a time`,
          }
        : {
            type: MAX_UNAVAILABLE_CONDITION,
            status: 'Unknown',
            reason: 'Pending',
            message: `waiting for the StatefulSet to show whether the cluster keeps updateStrategy.rollingUpdate.maxUnavailable (feature gate ${FEATURE_GATE})`,
          }
    case 'ignored':
      return {
        type: MAX_UNAVAILABLE_CONDITION,
        status: 'True',
        reason: 'FeatureGateDisabled',
        message:
          `the cluster ignores spec.maxUnavailable (${plan.value}) for rollouts: its apiserver dropped the StatefulSet's ` +
          `updateStrategy.rollingUpdate.maxUnavailable (feature gate ${FEATURE_GATE} is off), so rolling updates replace one miner at a time; ` +
          'it still sets the PodDisruptionBudget. After enabling the gate, change spec.maxUnavailable to try again',
      }
  }
}
