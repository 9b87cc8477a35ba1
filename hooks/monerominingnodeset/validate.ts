/**
 * The rules of a MoneroMiningNodeSet spec that a structural schema cannot say, each stated
 * once as a SpecRule (../rules.ts): the CRD builder writes the CEL, the hook runs the check.
 */
import type { V1EnvVar } from '@kubernetes/client-node'
import { DEFAULT_XMRIG_IMAGE } from './defaults.js'
import { checkEnv, checkPodLabels, PODMONITOR_RULE } from '../api/schema-parts.js'
import { checkRules, SpecError, type SpecRule } from '../rules.js'
import { findReferences } from './expansion.js'
import { argIsFlag, celArgsHaveAny, ENV_API_TOKEN, ENV_ID, ENV_PASSWORD, ENV_POD_NAME, FLAG_RULES, RESERVED_ENV } from './flags.js'
import type { MoneroMiningNodeSetSpec } from './types.js'

const hasHugepagesResource = (s: MoneroMiningNodeSetSpec): boolean =>
  ['requests', 'limits'].some((k) => Object.hasOwn(s.xmrig.resources?.[k as 'requests' | 'limits'] ?? {}, 'hugepages-2Mi'))

const FLAG_SPEC_RULES: SpecRule<MoneroMiningNodeSetSpec>[] = FLAG_RULES.map((r) => ({
  field: r.field,
  rule: `!(${r.celActive}) || !(${celArgsHaveAny(r.flags)})`,
  holds: (s) => !r.active(s) || !(s.xmrig.args ?? []).some((a) => r.flags.some((f) => argIsFlag(a, f))),
  message: r.message,
}))

/** Rules on the spec (`self` is the spec). */
export const SPEC_RULES: readonly SpecRule<MoneroMiningNodeSetSpec>[] = [
  ...FLAG_SPEC_RULES,
  {
    field: 'maxThreadsHint',
    rule: '!(has(self.threads) && has(self.maxThreadsHint))',
    holds: (s) => !(s.threads !== undefined && s.maxThreadsHint !== undefined),
    message: 'threads and maxThreadsHint exclude each other: threads fixes the count, maxThreadsHint caps the automatic one',
  },
  {
    field: 'donateLevel',
    rule: `!has(self.donateLevel) || self.donateLevel > 0 || self.xmrig.image != '${DEFAULT_XMRIG_IMAGE}'`,
    holds: (s) => s.donateLevel === undefined || s.donateLevel > 0 || s.xmrig.image !== DEFAULT_XMRIG_IMAGE,
    message: 'donateLevel 0 needs an xmrig build whose minimum donate level is 0; the default image is an official build, which ignores 0 and keeps 1',
  },
  {
    field: 'hugePages.pages',
    rule: '!self.hugePages.enabled || has(self.threads) || has(self.hugePages.pages)',
    holds: (s) => !s.hugePages.enabled || s.threads !== undefined || s.hugePages.pages !== undefined,
    message:
      'hugePages.enabled needs threads (the operator then requests 1168 + threads 2 MiB pages) or an explicit hugePages.pages; with automatic threads the size is unknown',
  },
  {
    field: 'hugePages.pages',
    rule: 'self.hugePages.enabled || !has(self.hugePages.pages)',
    holds: (s) => s.hugePages.enabled || s.hugePages.pages === undefined,
    message: 'hugePages.pages applies only with hugePages.enabled: true',
  },
  {
    field: 'xmrig.resources',
    rule: "!self.hugePages.enabled || !has(self.xmrig.resources) || ((!has(self.xmrig.resources.requests) || !('hugepages-2Mi' in self.xmrig.resources.requests)) && (!has(self.xmrig.resources.limits) || !('hugepages-2Mi' in self.xmrig.resources.limits)))",
    holds: (s) => !s.hugePages.enabled || !hasHugepagesResource(s),
    message: 'hugePages.enabled sizes hugepages-2Mi itself; remove hugepages-2Mi from xmrig.resources (or set hugePages.pages)',
  },
  {
    field: 'xmrig.resources.requests',
    rule: "!self.hugePages.enabled || !has(self.xmrig.resources) || (has(self.xmrig.resources.requests) && ('cpu' in self.xmrig.resources.requests || 'memory' in self.xmrig.resources.requests))",
    holds: (s) =>
      !s.hugePages.enabled ||
      s.xmrig.resources === undefined ||
      Object.hasOwn(s.xmrig.resources.requests ?? {}, 'cpu') ||
      Object.hasOwn(s.xmrig.resources.requests ?? {}, 'memory'),
    message: 'with hugePages.enabled, xmrig.resources.requests must include cpu or memory (Kubernetes requires it next to huge pages)',
  },
  {
    field: 'api.accessTokenSecretRef',
    rule: '!self.api.enabled || has(self.api.accessTokenSecretRef)',
    holds: (s) => !s.api.enabled || s.api.accessTokenSecretRef !== undefined,
    message: 'api.enabled exposes the xmrig HTTP API to the cluster: set api.accessTokenSecretRef so only holders of the token can read it',
  },
  {
    field: 'metrics.port',
    rule: '!(self.api.enabled || self.metrics.enabled) || self.api.port != self.metrics.port',
    holds: (s) => !(s.api.enabled || s.metrics.enabled) || s.api.port !== s.metrics.port,
    message: 'api.port and metrics.port must differ (both listen in the same pod)',
  },
]

/** Rules on xmrig.env: env var names a user may not define (the operator sets them). */
export const ENV_RULES: readonly SpecRule<readonly V1EnvVar[] | undefined>[] = [
  {
    field: '',
    rule: `self.all(e, !(e.name in [${RESERVED_ENV.map((n) => `'${n}'`).join(', ')}]))`,
    holds: (env) => !(env ?? []).some((e) => (RESERVED_ENV as readonly string[]).includes(e.name)),
    message: `xmrig.env: ${RESERVED_ENV.join(', ')} are set by the operator ($(id) is the replica's ordinal)`,
  },
]

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
  checkRules(SPEC_RULES, spec, 'spec')
  checkEnv(spec.xmrig.env, 'spec.xmrig.env')
  checkRules([PODMONITOR_RULE], spec.metrics, 'spec.metrics')
  checkPodLabels(spec.podLabels, 'spec.podLabels')
  checkRules(ENV_RULES, spec.xmrig.env, 'spec.xmrig.env')
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
  for (const [i, a] of (spec.xmrig.args ?? []).entries()) check(`spec.xmrig.args[${i}]`, a)
  if (spec.pool) {
    check('spec.pool.url', spec.pool.url)
    check('spec.pool.user', spec.pool.user)
  }
}
