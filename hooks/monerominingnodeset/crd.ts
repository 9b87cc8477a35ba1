/**
 * The MoneroMiningNodeSet CRD: a fleet of xmrig miners. Its spec schema (TypeBox, built from
 * the shared pieces in ../api/schema-parts.ts) is the source of the MoneroMiningNodeSetSpec
 * type (./types.ts) and of the CRD (`npm run gen:crds` writes crds/monerominingnodesets.yaml).
 */
import { Type } from '@sinclair/typebox'
import {
  argsField,
  envList,
  hardAntiAffinityField,
  imageField,
  PODMONITOR_RULE,
  podMonitorSchema,
  podSecurityField,
  pullPolicy,
  replicasField,
  resources,
  schedulingProperties,
  workloadStatusProperties,
} from '../api/schema-parts.js'
import { buildCrd } from '../api/crd.js'
import { IntOrString, withRules } from '../api/structural.js'
import { DEFAULT_API_PORT, DEFAULT_METRICS_PORT, DEFAULT_XMRIG_IMAGE, RANDOMX_DATASET_PAGES } from './defaults.js'
import { ENV_RULES, SPEC_RULES } from './validate.js'

/** A key of a Secret in the resource's namespace. */
export const secretKeyRef = (what: string) =>
  Type.Object(
    {
      name: Type.String({ description: 'Secret name.', minLength: 1, maxLength: 253 }),
      key: Type.String({ description: 'Key in the Secret.', minLength: 1, maxLength: 253 }),
    },
    { description: `Key of a Secret in the same namespace holding ${what}.` },
  )

const port = (what: string, dflt: number) =>
  Type.Integer({
    format: 'int32',
    description: `TCP port of ${what}.`,
    minimum: 1024,
    maximum: 65535,
    default: dflt,
  })

export const xmrigSchema = Type.Object(
  {
    image: {
      ...imageField('xmrig', DEFAULT_XMRIG_IMAGE),
      description:
        'Container image whose entrypoint is xmrig (the operator passes only arguments). The default runs the official xmrig release binary with no pool or wallet built in. Changing it rolls the miners.',
    },
    imagePullPolicy: Type.Optional(pullPolicy),
    args: Type.Optional({
      ...argsField('xmrig'),
      description:
        'Raw xmrig arguments, appended after the flags the operator writes from the structured fields (so pool options here such as -k or --rig-id apply to pool.url). $(id) is the replica ordinal (0, 1, ...) and $(POD_NAME) the pod name; Kubernetes expands them, and any other $(NAME) must be defined in env ($$(NAME) is a literal $(NAME)).',
    }),
    env: Type.Optional(withRules(envList('xmrig'), ENV_RULES)),
    // Absent: the operator's defaults (defaultXmrigResources), which depend on hugePages.
    resources: Type.Optional({
      ...resources('xmrig'),
      description:
        'Compute resources of xmrig. Default: requests cpu 1 and memory 2560Mi (RandomX fast mode holds a 2080 MiB dataset plus 256 MiB cache), limit memory 3Gi, no cpu limit (xmrig yields to other pods by their cpu requests instead of being throttled); with hugePages the memory request drops to 512Mi. hugepages-2Mi is set from hugePages.',
    }),
  },
  { description: 'The xmrig container.', default: {} },
)

/** One pool, rendered to xmrig's -o/-u/-p/--tls/--tls-fingerprint/--coin. */
export const poolSchema = Type.Object(
  {
    url: Type.String({ description: 'Pool address, host:port (xmrig -o).', minLength: 1, maxLength: 512, pattern: '^[^\\s]+$' }),
    user: Type.String({
      description: 'Wallet address or pool login, with an optional worker name (xmrig -u), e.g. "WALLET.node-$(id)".',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[^\\s]+$',
    }),
    passwordSecretRef: Type.Optional(secretKeyRef('the pool password (xmrig -p; passed through the env var XMRIG_PASSWORD)')),
    tls: Type.Optional(Type.Boolean({ description: 'Connect with TLS (xmrig --tls).' })),
    tlsFingerprint: Type.Optional(
      Type.String({
        description: 'SHA-256 fingerprint (64 hex digits) the pool TLS certificate must have (xmrig --tls-fingerprint).',
        pattern: '^[0-9a-fA-F]{64}$',
      }),
    ),
    coin: Type.Optional(
      Type.String({
        description: 'Coin, which selects the algorithm (xmrig --coin), e.g. monero.',
        maxLength: 32,
        pattern: '^[a-z0-9-]+$',
      }),
    ),
  },
  {
    description:
      'One pool, written as xmrig flags (-o, -u, -p, --tls, --tls-fingerprint, --coin) before xmrig.args. For several (failover) pools, leave this out and use xmrig.args. Patching it rolls the miners to the new pool.',
  },
)

/** The schema of a MoneroMiningNodeSet's spec (its rules, SPEC_RULES, are attached in the CRD). */
export const miningSpecSchema = Type.Object(
  {
    replicas: {
      ...replicasField('miners', 1, 10000),
      description: 'Number of miners. Each gets a stable ordinal, $(id), kept across restarts; scaling down removes the highest ones.',
    },
    hardAntiAffinity: hardAntiAffinityField,
    maxUnavailable: Type.Optional(
      IntOrString({
        description:
          "How many miners may be down at once, a number or a percentage. Always sets the PodDisruptionBudget for node drains (default 10%). For rolling updates (default: one miner at a time) it only works where the kube-apiserver runs with the MaxUnavailableStatefulSet feature gate (alpha, off by default in Kubernetes 1.34): elsewhere the apiserver drops the StatefulSet's updateStrategy.rollingUpdate.maxUnavailable, so the operator stops sending it and sets the condition MaxUnavailableIgnored=True (reason FeatureGateDisabled). Change the value to try again after enabling the gate.",
        // minimum applies to the integer form and pattern to the string form.
        minimum: 1,
        pattern: '^([1-9][0-9]?|100)%$',
      }),
    ),
    xmrig: xmrigSchema,
    pool: Type.Optional(poolSchema),
    threads: Type.Optional(
      Type.Integer({
        format: 'int32',
        description: 'Mining threads per miner (xmrig -t). Default: xmrig chooses from the CPU (about one per 2 MiB of L3 cache).',
        minimum: 1,
        maximum: 1024,
      }),
    ),
    maxThreadsHint: Type.Optional(
      Type.Integer({
        format: 'int32',
        description: 'Cap of the automatic thread count, in percent of the CPU threads (xmrig --cpu-max-threads-hint).',
        minimum: 1,
        maximum: 100,
      }),
    ),
    donateLevel: Type.Optional(
      Type.Integer({
        format: 'int32',
        description:
          "Percentage of time mined for the xmrig developers (xmrig --donate-level). Unset: xmrig's default, 1. Official xmrig builds (the default image) accept 1..99 and ignore lower values; 0 works only with builds whose minimum was changed to 0.",
        minimum: 0,
        maximum: 99,
      }),
    ),
    hugePages: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Request hugepages-2Mi for xmrig.', default: false }),
        pages: Type.Optional(
          Type.Integer({
            format: 'int32',
            description: `2 MiB pages per miner. Default: ${RANDOMX_DATASET_PAGES} (RandomX dataset and cache) + threads (one scratchpad each).`,
            minimum: 1,
            maximum: 65536,
          }),
        ),
      },
      {
        description:
          'Back RandomX with 2 MiB huge pages (about 10% more hashrate). Nodes must have free pre-allocated pages (vm.nr_hugepages) or the pods stay Pending.',
        default: {},
      },
    ),
    api: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Listen on all pod addresses and add the port to the Service.', default: false }),
        port: port('the xmrig HTTP API', DEFAULT_API_PORT),
        accessTokenSecretRef: Type.Optional(secretKeyRef('the API access token (Authorization: Bearer); required with enabled')),
      },
      {
        description:
          'The xmrig HTTP API (read-only). It also runs, on 127.0.0.1 only, whenever metrics.enabled; enabled exposes it to the cluster through the Service.',
        default: {},
      },
    ),
    metrics: withRules(
      Type.Object(
        {
          enabled: Type.Boolean({ description: 'Run the exporter sidecar.', default: true }),
          port: port('the exporter', DEFAULT_METRICS_PORT),
          podMonitor: Type.Optional(podMonitorSchema),
        },
        {
          description: 'Prometheus metrics from an exporter sidecar that reads the xmrig API; the pod is Ready only while xmrig is connected to a pool.',
          default: {},
        },
      ),
      [PODMONITOR_RULE],
    ),
    msr: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Run xmrig privileged, as root, so it can write MSRs.', default: false }),
      },
      {
        description:
          'MSR tuning (about 15% more RandomX hashrate). RISKS: xmrig then runs as root in a privileged container, which has full control of the node, and it rewrites CPU model-specific registers (prefetchers) for every process on the node until reboot. The namespace must allow the "privileged" Pod Security Standard; the msr kernel module must be loadable. Use only on nodes dedicated to mining.',
        default: {},
      },
    ),
    podSecurity: podSecurityField,
    ...schedulingProperties,
  },
  { description: 'Desired state of the miners.' },
)

/** The MoneroMiningNodeSet CRD. */
export function buildMoneroMiningNodeSetCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroMiningNodeSet',
    plural: 'monerominingnodesets',
    shortNames: ['mmns'],
    description: 'A fleet of identical xmrig miners, one workload for the whole set, each miner with a stable ordinal $(id).',
    spec: withRules(miningSpecSchema, SPEC_RULES),
    statusProperties: {
      ...workloadStatusProperties,
      conditions: {
        ...workloadStatusProperties.conditions,
        description:
          'Latest observations of the resource state: Ready, Progressing, Degraded (the workload), Synced (False when the hook refused the spec: the children are kept as they were, the reason and message say why), and MaxUnavailableIgnored while spec.maxUnavailable is set (True: the cluster ignores it for rollouts, feature gate MaxUnavailableStatefulSet off).',
      },
      pool: { type: 'string', description: 'The pool in use (pool.url, or the first -o/--url of xmrig.args).' },
    },
    printerColumns: [
      { name: 'Desired', type: 'integer', description: 'Desired miners', jsonPath: '.spec.replicas' },
      { name: 'Ready', type: 'integer', description: 'Miners connected to a pool (or running, without metrics)', jsonPath: '.status.readyReplicas' },
      { name: 'Up-to-date', type: 'integer', description: 'Miners on the latest spec', jsonPath: '.status.updatedReplicas' },
      { name: 'Pool', type: 'string', jsonPath: '.status.pool' },
      { name: 'Status', type: 'string', description: 'Ready condition', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    ],
  })
}
