/** Label keys and the label sets of children and pods, computed in one place. */

export const LABEL_NAME = 'app.kubernetes.io/name'
export const LABEL_INSTANCE = 'app.kubernetes.io/instance'
export const LABEL_COMPONENT = 'app.kubernetes.io/component'
export const LABEL_PART_OF = 'app.kubernetes.io/part-of'
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by'
/** Set by the StatefulSet controller on each pod: what a per-member Service selects. */
export const LABEL_POD_NAME = 'statefulset.kubernetes.io/pod-name'

export const MANAGED_BY = 'monero-operator'

/** Which program a set runs and what role it plays. */
export interface SetIdentity {
  /** Lower-case kind, e.g. `moneronodeset`. */
  readonly kind: string
  /** The parent's name. */
  readonly instance: string
  /** `monerod` or `xmrig`. */
  readonly app: 'monerod' | 'xmrig'
  /** `node`, `peer` or `miner`. */
  readonly component: string
}

/** Labels that select the pods of a set: stable for the set's lifetime (selectors are immutable). */
export function selectorLabels(id: SetIdentity): Record<string, string> {
  return {
    [LABEL_NAME]: id.app,
    [LABEL_INSTANCE]: id.instance,
    [LABEL_PART_OF]: id.kind,
  }
}

/** Labels on every child object and pod. */
export function commonLabels(id: SetIdentity): Record<string, string> {
  return {
    ...selectorLabels(id),
    [LABEL_COMPONENT]: id.component,
    [LABEL_MANAGED_BY]: MANAGED_BY,
  }
}

/** A label selector as the string form status.selector and `kubectl -l` use. */
export function selectorString(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
}
