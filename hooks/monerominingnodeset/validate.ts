/**
 * The rules of a MoneroMiningNodeSet spec that a structural schema cannot say. Each rule is
 * written twice from one record: as CEL for the CRD (the apiserver rejects at apply time)
 * and as TypeScript for the hook (the hook's ajv validator does not run CEL), with the same
 * message, so `render`, the hook's 422 and `kubectl apply` all say the same thing.
 */
import { DEFAULT_XMRIG_IMAGE } from '../api/defaults.js'
import { SpecError } from '../nodes/monerod-container.js'
import { checkEnv, checkPodLabels } from '../nodes/validate.js'
import { findReferences } from './expansion.js'
import { argIsFlag, celArgsHaveAny, ENV_API_TOKEN, ENV_ID, ENV_PASSWORD, ENV_POD_NAME, FLAG_RULES, RESERVED_ENV } from './flags.js'
import type { MoneroMiningNodeSetSpec } from './types.js'

/** A spec-level rule: CEL over `self` (the spec) and the same check in TypeScript. */
export interface SpecRule {
  readonly field: string
  /** CEL that must hold. */
  readonly rule: string
  /** TypeScript that must hold. */
  readonly holds: (spec: MoneroMiningNodeSetSpec) => boolean
  readonly message: string
}

const hasHugepagesResource = (s: MoneroMiningNodeSetSpec): boolean =>
  ['requests', 'limits'].some((k) => Object.hasOwn(s.xmrig.resources?.[k as 'requests' | 'limits'] ?? {}, 'hugepages-2Mi'))

const FLAG_SPEC_RULES: SpecRule[] = FLAG_RULES.map((r) => ({
  field: r.field,
  rule: `!(${r.celActive}) || !(${celArgsHaveAny(r.flags)})`,
  holds: (s) => !r.active(s) || !(s.xmrig.args ?? []).some((a) => r.flags.some((f) => argIsFlag(a, f))),
  message: r.message,
}))

export const SPEC_RULES: readonly SpecRule[] = [
  ...FLAG_SPEC_RULES,
  {
    field: 'spec.maxThreadsHint',
    rule: '!(has(self.threads) && has(self.maxThreadsHint))',
    holds: (s) => !(s.threads !== undefined && s.maxThreadsHint !== undefined),
    message: 'threads and maxThreadsHint exclude each other: threads fixes the count, maxThreadsHint caps the automatic one',
  },
  {
    field: 'spec.donateLevel',
    rule: `!has(self.donateLevel) || self.donateLevel > 0 || self.xmrig.image != '${DEFAULT_XMRIG_IMAGE}'`,
    holds: (s) => s.donateLevel === undefined || s.donateLevel > 0 || s.xmrig.image !== DEFAULT_XMRIG_IMAGE,
    message: 'donateLevel 0 needs an xmrig build whose minimum donate level is 0; the default image is an official build, which ignores 0 and keeps 1',
  },
  {
    field: 'spec.hugePages.pages',
    rule: '!self.hugePages.enabled || has(self.threads) || has(self.hugePages.pages)',
    holds: (s) => !s.hugePages.enabled || s.threads !== undefined || s.hugePages.pages !== undefined,
    message:
      'hugePages.enabled needs threads (the operator then requests 1168 + threads 2 MiB pages) or an explicit hugePages.pages; with automatic threads the size is unknown',
  },
  {
    field: 'spec.hugePages.pages',
    rule: 'self.hugePages.enabled || !has(self.hugePages.pages)',
    holds: (s) => s.hugePages.enabled || s.hugePages.pages === undefined,
    message: 'hugePages.pages applies only with hugePages.enabled: true',
  },
  {
    field: 'spec.xmrig.resources',
    rule: "!self.hugePages.enabled || !has(self.xmrig.resources) || ((!has(self.xmrig.resources.requests) || !('hugepages-2Mi' in self.xmrig.resources.requests)) && (!has(self.xmrig.resources.limits) || !('hugepages-2Mi' in self.xmrig.resources.limits)))",
    holds: (s) => !s.hugePages.enabled || !hasHugepagesResource(s),
    message: 'hugePages.enabled sizes hugepages-2Mi itself; remove hugepages-2Mi from xmrig.resources (or set hugePages.pages)',
  },
  {
    field: 'spec.xmrig.resources.requests',
    rule: "!self.hugePages.enabled || !has(self.xmrig.resources) || (has(self.xmrig.resources.requests) && ('cpu' in self.xmrig.resources.requests || 'memory' in self.xmrig.resources.requests))",
    holds: (s) =>
      !s.hugePages.enabled ||
      s.xmrig.resources === undefined ||
      Object.hasOwn(s.xmrig.resources.requests ?? {}, 'cpu') ||
      Object.hasOwn(s.xmrig.resources.requests ?? {}, 'memory'),
    message: 'with hugePages.enabled, xmrig.resources.requests must include cpu or memory (Kubernetes requires it next to huge pages)',
  },
  {
    field: 'spec.api.accessTokenSecretRef',
    rule: '!self.api.enabled || has(self.api.accessTokenSecretRef)',
    holds: (s) => !s.api.enabled || s.api.accessTokenSecretRef !== undefined,
    message: 'api.enabled exposes the xmrig HTTP API to the cluster: set api.accessTokenSecretRef so only holders of the token can read it',
  },
  {
    field: 'spec.metrics.port',
    rule: '!(self.api.enabled || self.metrics.enabled) || self.api.port != self.metrics.port',
    holds: (s) => !(s.api.enabled || s.metrics.enabled) || s.api.port !== s.metrics.port,
    message: 'api.port and metrics.port must differ (both listen in the same pod)',
  },
]

/** Env var names a user may not define in xmrig.env (the operator sets them). */
export const ENV_RULE = {
  rule: `self.all(e, !(e.name in [${RESERVED_ENV.map((n) => `'${n}'`).join(', ')}]))`,
  message: `xmrig.env: ${RESERVED_ENV.join(', ')} are set by the operator ($(id) is the replica's ordinal)`,
}

/** The env var names defined in the xmrig container of this spec, for `$(VAR)` references. */
export function definedVars(spec: MoneroMiningNodeSetSpec): Set<string> {
  return new Set([
    ENV_ID,
    ENV_POD_NAME,
    ...(spec.pool?.passwordSecretRef ? [ENV_PASSWORD] : []),
    ...((spec.api.enabled || spec.metrics.enabled) && spec.api.accessTokenSecretRef ? [ENV_API_TOKEN] : []),
    ...(spec.xmrig.env ?? []).map((e) => e.name),
  ])
}

/**
 * Checks a defaulted spec; throws SpecError naming the first field at fault. Beyond the CEL
 * rules, `$(NAME)` references must name a defined variable: Kubernetes would pass an
 * undefined one on literally, which xmrig would send to the pool as part of a worker name.
 */
export function checkMiningSpec(spec: MoneroMiningNodeSetSpec): void {
  for (const r of SPEC_RULES) if (!r.holds(spec)) throw new SpecError(r.field, r.message)
  checkEnv(spec.xmrig.env, 'spec.xmrig.env')
  if (spec.metrics.podMonitor?.enabled && !spec.metrics.enabled) {
    throw new SpecError('spec.metrics.podMonitor', 'metrics.podMonitor needs metrics.enabled: true (it scrapes the exporter sidecar)')
  }
  checkPodLabels(spec.podLabels, 'spec.podLabels')
  for (const e of spec.xmrig.env ?? []) {
    if ((RESERVED_ENV as readonly string[]).includes(e.name)) throw new SpecError('spec.xmrig.env', ENV_RULE.message)
  }
  const defined = definedVars(spec)
  const check = (field: string, value: string) => {
    for (const ref of findReferences(value)) {
      if (!defined.has(ref.name)) {
        throw new SpecError(
          field,
          `$(${ref.name}) is not defined, and Kubernetes would pass it to xmrig as written; use $(id) (replica ordinal) or $(POD_NAME), define ${ref.name || 'the variable'} in xmrig.env, or write $$(${ref.name}) for a literal $(${ref.name})`,
        )
      }
    }
  }
  ;(spec.xmrig.args ?? []).forEach((a, i) => check(`spec.xmrig.args[${i}]`, a))
  if (spec.pool) {
    check('spec.pool.url', spec.pool.url)
    check('spec.pool.user', spec.pool.user)
  }
}
