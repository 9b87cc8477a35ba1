/**
 * Rules a structural schema cannot say, each stated once: one record gives the CEL rule the
 * CRD carries (the apiserver rejects at apply time) and the TypeScript check the hook runs
 * (the hook's ajv validator does not run CEL), with one message, so `render`, the hook's 422
 * and `kubectl apply` all say the same thing.
 *
 * Rules that compare with the old object (`oldSelf`, e.g. storage.size) can only run in the
 * apiserver and are written as plain CEL next to their schema.
 */

/** A spec that passed the schema but breaks a rule of ours: answered with 422. */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
    this.name = 'SpecError'
  }
}

/** A rule on one schema node: CEL over `self` (the value at that node) and the same check in TypeScript. */
export interface SpecRule<T> {
  /** The field at fault, relative to the node the rule sits on ('' names the node itself). */
  readonly field: string
  /** CEL that must hold. */
  readonly rule: string
  /**
   * TypeScript that must hold, on the value after defaulting. (The CEL rule also sees values
   * before nested defaults apply, hence its has() guards.)
   */
  readonly holds: (self: T) => boolean
  readonly message: string
  /** For rules over a map or list: the key or index at fault (appended to the field), when it can be named. */
  readonly culprit?: (self: T) => string | undefined
}

/** The CRD side: `x-kubernetes-validations` of the node the rules sit on. */
export function celRules<T>(rules: readonly SpecRule<T>[]): { rule: string; message: string }[] {
  return rules.map((r) => ({ rule: r.rule, message: r.message }))
}

/** The hook side: throws SpecError for the first rule that does not hold (`path` is the node's path). */
export function checkRules<T>(rules: readonly SpecRule<T>[], self: T, path: string): void {
  for (const r of rules) {
    if (r.holds(self)) continue
    const field = r.field === '' ? path : `${path}.${r.field}`
    const culprit = r.culprit?.(self)
    throw new SpecError(culprit === undefined ? field : `${field}${culprit}`, r.message)
  }
}
