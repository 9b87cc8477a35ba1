/**
 * OpenAPI v3 fragments shared by our CRDs, with the rules that go with them (each stated once,
 * see ../rules.ts). The CRD files in crds/ are generated from these (`npm run gen:crds`) and a
 * test fails when crds/ is stale, so the YAML in crds/ stays the single source of truth that
 * the apiserver, the hook's validator and the chart all read.
 */
import type { V1EnvVar } from '@kubernetes/client-node'
import { celRules, checkRules, SpecError, type SpecRule } from '../rules.js'

/** A JSON schema node as the apiserver's structural schema understands it. */
export type Schema = Record<string, unknown>

export const quantity = (description: string): Schema => ({
  description,
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
})

export const resources = (what: string): Schema => ({
  type: 'object',
  description: `Compute resources of the ${what} container (requests and limits, as in a Pod).`,
  properties: {
    requests: {
      type: 'object',
      description: 'Minimum resources the scheduler reserves, e.g. {cpu: "1", memory: "2Gi"}.',
      additionalProperties: quantity('A resource quantity such as "500m", "2", "4Gi".'),
    },
    limits: {
      type: 'object',
      description: 'Maximum resources the container may use.',
      additionalProperties: quantity('A resource quantity such as "500m", "2", "4Gi".'),
    },
  },
})

/** The rules of one env entry (an item of envList). */
export const ENV_ITEM_RULES: readonly SpecRule<V1EnvVar>[] = [
  {
    field: '',
    rule: '!(has(self.value) && has(self.valueFrom))',
    holds: (e) => !(e.value !== undefined && e.valueFrom !== undefined),
    message: 'env: set either value or valueFrom, not both',
  },
]

/**
 * Env entries: the rules of each item, and names unique (the apiserver enforces that through
 * the list-map key `name`, not through a rule).
 */
export function checkEnv(env: readonly V1EnvVar[] | undefined, field: string): void {
  const seen = new Set<string>()
  ;(env ?? []).forEach((e, i) => {
    checkRules(ENV_ITEM_RULES, e, `${field}[${i}]`)
    if (seen.has(e.name)) throw new SpecError(`${field}[${i}]`, `duplicate env name ${JSON.stringify(e.name)}`)
    seen.add(e.name)
  })
}

export const envList = (what: string): Schema => ({
  type: 'array',
  description: `Extra environment variables for the ${what} container, as in a Pod's env.`,
  maxItems: 64,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    required: ['name'],
    properties: {
      name: {
        type: 'string',
        description: 'Variable name.',
        minLength: 1,
        maxLength: 256,
        pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$',
      },
      value: { type: 'string', description: 'Literal value.', maxLength: 32768 },
      valueFrom: {
        type: 'object',
        description: 'Source of the value (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef), as in a Pod.',
        'x-kubernetes-preserve-unknown-fields': true,
      },
    },
    'x-kubernetes-validations': celRules(ENV_ITEM_RULES),
  },
})

export const imageField = (what: string, dflt: string): Schema => ({
  type: 'string',
  description: `Container image for ${what}. Pin it by tag or digest; changing it rolls the pods one at a time.`,
  minLength: 1,
  maxLength: 512,
  pattern: '^[^\\s]+$',
  default: dflt,
})

export const pullPolicy: Schema = {
  type: 'string',
  description: 'Image pull policy: Always, IfNotPresent or Never (Kubernetes default when empty).',
  enum: ['Always', 'IfNotPresent', 'Never'],
}

export const argsField = (what: string): Schema => ({
  type: 'array',
  description: `Extra command-line arguments for ${what}, merged with the operator's defaults (see the README's merge rule).`,
  // Bounds keep the CEL rules over args within the apiserver's cost budget.
  maxItems: 128,
  items: { type: 'string', maxLength: 512 },
})

const looseObject = (description: string): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
})

/** Label key prefixes the operator keeps for its own labels. */
const RESERVED_LABEL_PREFIXES = ['app.kubernetes.io/', 'utxo.com.br/']

const reservedLabel = (labels: Record<string, string> | undefined): string | undefined =>
  Object.keys(labels ?? {}).find((k) => RESERVED_LABEL_PREFIXES.some((p) => k.startsWith(p)))

/** The rules of labels users may add to pods (podLabels, MoneroNetwork's template labels). */
export const POD_LABEL_RULES: readonly SpecRule<Record<string, string> | undefined>[] = [
  {
    field: '',
    rule: `self.all(k, ${RESERVED_LABEL_PREFIXES.map((p) => `!k.startsWith('${p}')`).join(' && ')})`,
    holds: (labels) => reservedLabel(labels) === undefined,
    culprit: (labels) => {
      const key = reservedLabel(labels)
      return key === undefined ? undefined : `.${key}`
    },
    message: 'podLabels: keys under app.kubernetes.io/ and utxo.com.br/ are reserved for the operator',
  },
]

/** Labels users may add to pods (`field` is their path). */
export function checkPodLabels(labels: Record<string, string> | undefined, field: string): void {
  checkRules(POD_LABEL_RULES, labels, field)
}

/** Pod scheduling fields passed through unchanged to the pod template. */
export const schedulingProperties: Record<string, Schema> = {
  nodeSelector: {
    type: 'object',
    description: 'Node labels the pods must match (Pod nodeSelector).',
    additionalProperties: { type: 'string' },
  },
  tolerations: {
    type: 'array',
    description: 'Pod tolerations, as in a Pod spec.',
    maxItems: 64,
    items: looseObject('A toleration (key, operator, value, effect, tolerationSeconds).'),
  },
  affinity: looseObject(
    'Extra pod affinity rules, as in a Pod spec. nodeAffinity is used as given; podAntiAffinity terms are added to the ones hardAntiAffinity creates.',
  ),
  topologySpreadConstraints: {
    type: 'array',
    description: "Topology spread constraints, as in a Pod spec. Their labelSelector defaults to this set's pods.",
    maxItems: 16,
    items: looseObject('A topology spread constraint.'),
  },
  priorityClassName: {
    type: 'string',
    description: 'PriorityClass of the pods.',
    maxLength: 253,
  },
  imagePullSecrets: {
    type: 'array',
    description: 'Secrets used to pull the images (names in the same namespace).',
    maxItems: 16,
    items: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', description: 'Secret name.', minLength: 1, maxLength: 253 } },
    },
  },
  podAnnotations: {
    type: 'object',
    description: 'Extra annotations on every pod (e.g. for a service mesh or a log shipper).',
    additionalProperties: { type: 'string' },
  },
  podLabels: {
    type: 'object',
    description: 'Extra labels on every pod. Keys in app.kubernetes.io/ and utxo.com.br/ are reserved.',
    additionalProperties: { type: 'string' },
    'x-kubernetes-validations': celRules(POD_LABEL_RULES),
  },
}

export const replicasField = (what: string, dflt: number, max: number): Schema => ({
  type: 'integer',
  format: 'int32',
  description: `Number of ${what}. Scaling down keeps data volumes unless storage.retention.whenScaled is Delete.`,
  minimum: 0,
  maximum: max,
  default: dflt,
})

export const hardAntiAffinityField: Schema = {
  type: 'boolean',
  description:
    'true: no two pods of this set may run on the same node (required anti-affinity on kubernetes.io/hostname; pods stay Pending when nodes run out). false: spread them when possible (preferred).',
  default: false,
}

/** Security context knobs; the defaults pass the "restricted" Pod Security Standard. */
export const podSecurityField: Schema = {
  type: 'object',
  description: 'Pod security settings. The defaults pass the Kubernetes "restricted" Pod Security Standard; change them only for images that need it.',
  default: {},
  properties: {
    runAsUser: { type: 'integer', format: 'int64', description: 'UID the containers run as.', minimum: 1, default: 1000 },
    runAsGroup: { type: 'integer', format: 'int64', description: 'GID the containers run as.', minimum: 1, default: 1000 },
    fsGroup: { type: 'integer', format: 'int64', description: 'Group that owns the data volume.', minimum: 1, default: 1000 },
    readOnlyRootFilesystem: {
      type: 'boolean',
      description: 'Mount the container root filesystem read-only (a writable /tmp is provided).',
      default: true,
    },
    allowRoot: {
      type: 'boolean',
      description:
        'Opt out of running as non-root, for images that must start as root (e.g. utxobr/monerod). Pods then fail the "restricted" Pod Security Standard; say why in an annotation.',
      default: false,
    },
  },
}

/** Kubernetes condition, as in metav1.Condition. */
export const conditionsField: Schema = {
  type: 'array',
  description:
    'Latest observations of the resource state: Ready, Progressing, Degraded (the workload) and Synced (False when the hook refused the spec: the children are kept as they were, the reason and message say why).',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    properties: {
      type: { type: 'string', description: 'Condition type.', maxLength: 316 },
      status: { type: 'string', description: 'True, False or Unknown.', enum: ['True', 'False', 'Unknown'] },
      reason: { type: 'string', description: 'Machine-readable CamelCase reason.', maxLength: 1024 },
      message: { type: 'string', description: 'Human-readable details.', maxLength: 32768 },
      lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed.' },
      observedGeneration: { type: 'integer', format: 'int64', description: 'Generation the condition was computed for.', minimum: 0 },
    },
  },
}

/** Status fields common to every workload kind. */
export const workloadStatusProperties: Record<string, Schema> = {
  observedGeneration: { type: 'integer', format: 'int64', description: 'Generation last processed (set by Metacontroller).' },
  replicas: { type: 'integer', format: 'int32', description: 'Pods that exist.' },
  readyReplicas: { type: 'integer', format: 'int32', description: 'Pods that are Ready.' },
  updatedReplicas: { type: 'integer', format: 'int32', description: 'Pods running the latest spec.' },
  availableReplicas: { type: 'integer', format: 'int32', description: 'Pods Ready for at least minReadySeconds.' },
  selector: { type: 'string', description: 'Label selector of the pods, as a string (for the scale subresource and HPAs).' },
  conditions: conditionsField,
}

/** A Prometheus Operator PodMonitor for a set (node kinds and miners). */
export const podMonitorSchema: Schema = {
  type: 'object',
  description:
    "A Prometheus Operator PodMonitor for the set. Needs the PodMonitor CRD and podmonitors in the CompositeController's child resources (see the README).",
  properties: {
    enabled: { type: 'boolean', default: false, description: 'Create the PodMonitor.' },
    interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', description: 'Scrape interval, e.g. 30s.' },
    labels: {
      type: 'object',
      description: 'Labels on the PodMonitor (e.g. the one your Prometheus selects monitors by).',
      additionalProperties: { type: 'string' },
    },
  },
}

/** A metrics block with a podMonitor (node kinds and miners). */
export interface MetricsWithPodMonitor {
  enabled: boolean
  podMonitor?: { enabled: boolean }
}

/** The rule of a metrics block that carries podMonitorSchema. */
export const PODMONITOR_RULE: SpecRule<MetricsWithPodMonitor> = {
  field: 'podMonitor',
  // defaults are checked against the rule before nested defaults apply: guard with has()
  rule: '!has(self.podMonitor) || !has(self.podMonitor.enabled) || !self.podMonitor.enabled || !has(self.enabled) || self.enabled',
  holds: (m) => !m.podMonitor?.enabled || m.enabled,
  message: 'metrics.podMonitor needs metrics.enabled: true (it scrapes the exporter sidecar)',
}
