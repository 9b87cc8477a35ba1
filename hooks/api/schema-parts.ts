/**
 * TypeBox schemas of the spec pieces every kind shares (resources, env, images, scheduling, pod
 * security, PodMonitor), with the rules that go with them (each stated once, see ../rules.ts),
 * and the plain JSON schema of the status fields (written by the operator; no type derives
 * from them). The TypeScript types of the spec pieces are derived from these (./types.ts) and
 * the CRDs are rendered from them (./structural.ts, ./crd.ts): `npm run gen:crds` writes crds/
 * and a test fails when crds/ is stale, so the apiserver, the hook's validator, the chart and
 * the compiler all read one schema.
 */
import type { V1Affinity, V1EnvVarSource, V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node'
import { type Static, Type } from '@sinclair/typebox'
import { checkRules, SpecError, type SpecRule } from '../rules.js'
import { IntOrString, type JsonSchema, KubeObject, MapOf, StringEnum, withRules } from './structural.js'

export const quantity = (description: string) =>
  IntOrString({
    description,
    pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  })

export const resources = (what: string) =>
  Type.Object(
    {
      requests: Type.Optional(
        MapOf(quantity('A resource quantity such as "500m", "2", "4Gi".'), {
          description: 'Minimum resources the scheduler reserves, e.g. {cpu: "1", memory: "2Gi"}.',
        }),
      ),
      limits: Type.Optional(MapOf(quantity('A resource quantity such as "500m", "2", "4Gi".'), { description: 'Maximum resources the container may use.' })),
    },
    { description: `Compute resources of the ${what} container (requests and limits, as in a Pod).` },
  )

/** One env entry, as in a Pod's env. */
const envVar = Type.Object({
  name: Type.String({
    description: 'Variable name.',
    minLength: 1,
    maxLength: 256,
    pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$',
  }),
  value: Type.Optional(Type.String({ description: 'Literal value.', maxLength: 32768 })),
  valueFrom: Type.Optional(KubeObject<V1EnvVarSource>('Source of the value (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef), as in a Pod.')),
})

/** One env entry of a spec. */
export type EnvVar = Static<typeof envVar>

/** The rules of one env entry (an item of envList). */
export const ENV_ITEM_RULES: readonly SpecRule<EnvVar>[] = [
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
export function checkEnv(env: readonly EnvVar[] | undefined, field: string): void {
  const seen = new Set<string>()
  ;(env ?? []).forEach((e, i) => {
    checkRules(ENV_ITEM_RULES, e, `${field}[${i}]`)
    if (seen.has(e.name)) throw new SpecError(`${field}[${i}]`, `duplicate env name ${JSON.stringify(e.name)}`)
    seen.add(e.name)
  })
}

export const envList = (what: string) =>
  Type.Array(withRules(envVar, ENV_ITEM_RULES), {
    description: `Extra environment variables for the ${what} container, as in a Pod's env.`,
    maxItems: 64,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  })

export const imageField = (what: string, dflt: string) =>
  Type.String({
    description: `Container image for ${what}. Pin it by tag or digest; changing it rolls the pods one at a time.`,
    minLength: 1,
    maxLength: 512,
    pattern: '^[^\\s]+$',
    default: dflt,
  })

export const pullPolicy = StringEnum({
  description: 'Image pull policy: Always, IfNotPresent or Never (Kubernetes default when empty).',
  enum: ['Always', 'IfNotPresent', 'Never'],
})

export const argsField = (what: string) =>
  Type.Array(Type.String({ maxLength: 512 }), {
    description: `Extra command-line arguments for ${what}, merged with the operator's defaults (see the README's merge rule).`,
    // Bounds keep the CEL rules over args within the apiserver's cost budget.
    maxItems: 128,
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

/** Extra labels on every pod, with the rule that keeps the operator's own keys out. */
export const podLabelsField = withRules(
  MapOf(Type.String(), { description: 'Extra labels on every pod. Keys in app.kubernetes.io/ and utxo.com.br/ are reserved.' }),
  POD_LABEL_RULES,
)

/** Pod scheduling fields passed through unchanged to the pod template. */
export const schedulingProperties = {
  nodeSelector: Type.Optional(MapOf(Type.String(), { description: 'Node labels the pods must match (Pod nodeSelector).' })),
  tolerations: Type.Optional(
    Type.Array(KubeObject<V1Toleration>('A toleration (key, operator, value, effect, tolerationSeconds).'), {
      description: 'Pod tolerations, as in a Pod spec.',
      maxItems: 64,
    }),
  ),
  affinity: Type.Optional(
    KubeObject<V1Affinity>(
      'Extra pod affinity rules, as in a Pod spec. nodeAffinity is used as given; podAntiAffinity terms are added to the ones hardAntiAffinity creates.',
    ),
  ),
  topologySpreadConstraints: Type.Optional(
    Type.Array(KubeObject<V1TopologySpreadConstraint>('A topology spread constraint.'), {
      description: "Topology spread constraints, as in a Pod spec. Their labelSelector defaults to this set's pods.",
      maxItems: 16,
    }),
  ),
  priorityClassName: Type.Optional(
    Type.String({
      description: 'PriorityClass of the pods.',
      maxLength: 253,
    }),
  ),
  imagePullSecrets: Type.Optional(
    Type.Array(Type.Object({ name: Type.String({ description: 'Secret name.', minLength: 1, maxLength: 253 }) }), {
      description: 'Secrets used to pull the images (names in the same namespace).',
      maxItems: 16,
    }),
  ),
  podAnnotations: Type.Optional(MapOf(Type.String(), { description: 'Extra annotations on every pod (e.g. for a service mesh or a log shipper).' })),
  podLabels: Type.Optional(podLabelsField),
}

export const replicasField = (what: string, dflt: number, max: number) =>
  Type.Integer({
    format: 'int32',
    description: `Number of ${what}. Scaling down keeps data volumes unless storage.retention.whenScaled is Delete.`,
    minimum: 0,
    maximum: max,
    default: dflt,
  })

export const hardAntiAffinityField = Type.Boolean({
  description:
    'true: no two pods of this set may run on the same node (required anti-affinity on kubernetes.io/hostname; pods stay Pending when nodes run out). false: spread them when possible (preferred).',
  default: false,
})

/** Security context knobs; the defaults pass the "restricted" Pod Security Standard. */
export const podSecurityField = Type.Object(
  {
    runAsUser: Type.Integer({ format: 'int64', description: 'UID the containers run as.', minimum: 1, default: 1000 }),
    runAsGroup: Type.Integer({ format: 'int64', description: 'GID the containers run as.', minimum: 1, default: 1000 }),
    fsGroup: Type.Integer({ format: 'int64', description: 'Group that owns the data volume.', minimum: 1, default: 1000 }),
    readOnlyRootFilesystem: Type.Boolean({
      description: 'Mount the container root filesystem read-only (a writable /tmp is provided).',
      default: true,
    }),
    allowRoot: Type.Boolean({
      description:
        'Opt out of running as non-root, for images that must start as root (e.g. utxobr/monerod). Pods then fail the "restricted" Pod Security Standard; say why in an annotation.',
      default: false,
    }),
  },
  {
    description: 'Pod security settings. The defaults pass the Kubernetes "restricted" Pod Security Standard; change them only for images that need it.',
    default: {},
  },
)

/** Kubernetes condition, as in metav1.Condition. */
export const conditionsField: JsonSchema = {
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
export const workloadStatusProperties: Record<string, JsonSchema> = {
  observedGeneration: { type: 'integer', format: 'int64', description: 'Generation last processed (set by Metacontroller).' },
  replicas: { type: 'integer', format: 'int32', description: 'Pods that exist.' },
  readyReplicas: { type: 'integer', format: 'int32', description: 'Pods that are Ready.' },
  updatedReplicas: { type: 'integer', format: 'int32', description: 'Pods running the latest spec.' },
  availableReplicas: { type: 'integer', format: 'int32', description: 'Pods Ready for at least minReadySeconds.' },
  selector: { type: 'string', description: 'Label selector of the pods, as a string (for the scale subresource and HPAs).' },
  conditions: conditionsField,
}

/** A Prometheus Operator PodMonitor for a set (node kinds and miners). */
export const podMonitorSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Create the PodMonitor.' }),
    interval: Type.Optional(Type.String({ pattern: '^[0-9]+(ms|s|m|h)$', description: 'Scrape interval, e.g. 30s.' })),
    labels: Type.Optional(MapOf(Type.String(), { description: 'Labels on the PodMonitor (e.g. the one your Prometheus selects monitors by).' })),
  },
  {
    description:
      "A Prometheus Operator PodMonitor for the set. Needs the PodMonitor CRD and podmonitors in the CompositeController's child resources (see the README).",
  },
)

/** What PODMONITOR_RULE reads of a metrics block (node kinds and miners). */
export interface MetricsWithPodMonitor {
  enabled: boolean
  podMonitor?: Static<typeof podMonitorSchema>
}

/** The rule of a metrics block that carries podMonitorSchema. */
export const PODMONITOR_RULE: SpecRule<MetricsWithPodMonitor> = {
  field: 'podMonitor',
  // defaults are checked against the rule before nested defaults apply: guard with has()
  rule: '!has(self.podMonitor) || !has(self.podMonitor.enabled) || !self.podMonitor.enabled || !has(self.enabled) || self.enabled',
  holds: (m) => !m.podMonitor?.enabled || m.enabled,
  message: 'metrics.podMonitor needs metrics.enabled: true (it scrapes the exporter sidecar)',
}
