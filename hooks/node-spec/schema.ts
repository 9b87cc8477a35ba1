/**
 * The TypeBox schema of the shared node spec (MoneroNodeSet at `spec`, MoneroNetwork at
 * `spec.template.spec`) and the pieces of their CRDs both node kinds use. The node spec's
 * TypeScript types are derived from it (./types.ts); the CRDs are rendered from it
 * (../api/structural.ts). The rules that look only at the new object are SpecRules in
 * ./rules.ts, attached here with withRules; the transition rules (oldSelf) are CEL only, here.
 */
import { Type } from '@sinclair/typebox'
import {
  argsField,
  envList,
  hardAntiAffinityField,
  imageField,
  podMonitorSchema,
  podSecurityField,
  pullPolicy,
  quantity,
  resources,
  schedulingProperties,
} from '../api/schema-parts.js'
import { type CelRule, type JsonSchema, MapOf, StringEnum, withCel, withRules } from '../api/structural.js'
import { MAX_PARENT_NAME } from '../names.js'
import { RESERVED } from '../nodes/monerod-container.js'
import { resolveOptionName } from '../nodes/monerod-args.js'
import { METRICS_RULES, SERVICE_RULES, SOLO_MINING_RULES } from './rules.js'

/** Upstream monerod built by the community image maintained by Seth For Privacy; runs as uid 1000. */
export const DEFAULT_MONEROD_IMAGE = 'ghcr.io/sethforprivacy/simple-monerod:v0.18.4.4'

/** What differs between the node kinds: the defaults of the node spec. */
export interface NodeDefaults {
  storageSize: string
  requests: Record<string, string>
  limits: Record<string, string>
}

/** Operator-owned monerod flags: the hook's list (with reasons), the CEL rule's source too. */
export const RESERVED_MONEROD_FLAGS = RESERVED.map((r) => r.name)

/**
 * Every spelling monerod accepts for a flag: the name and each unambiguous prefix of it
 * (monerod's parser takes `--data=/x` for `--data-dir=/x`).
 */
export function acceptedSpellings(flag: string): string[] {
  const out: string[] = []
  for (let n = 1; n <= flag.length; n++) {
    const prefix = flag.slice(0, n)
    let resolved: string | undefined
    try {
      resolved = resolveOptionName(prefix)
    } catch {
      resolved = undefined // ambiguous
    }
    if (resolved === flag) out.push(prefix)
  }
  return out
}

function monerodSchema(d: NodeDefaults) {
  const spellings = RESERVED_MONEROD_FLAGS.flatMap(acceptedSpellings)
  const flagRule = `a.matches('^--(${spellings.join('|')})(=.*)?$')`
  return Type.Object(
    {
      image: imageField('monerod', DEFAULT_MONEROD_IMAGE),
      imagePullPolicy: Type.Optional(pullPolicy),
      args: Type.Optional(
        withCel(argsField('monerod'), [
          {
            rule: `!self.exists(a, ${flagRule})`,
            message: `monerod.args: ${RESERVED_MONEROD_FLAGS.map((f) => `--${f}`).join(', ')} are set by the operator (data on the volume, unrestricted RPC on 127.0.0.1 unless soloMining.enabled, fixed ports)`,
          },
          {
            rule: "self.filter(a, a == '--testnet' || a == '--stagenet' || a == '--regtest').size() <= 1",
            message: 'monerod.args: choose at most one of --testnet, --stagenet, --regtest',
          },
        ]),
      ),
      env: Type.Optional(envList('monerod')),
      // the default after the properties, as the CRD files have always written it
      resources: { ...resources('monerod'), default: { requests: d.requests, limits: d.limits } },
    },
    { description: 'The monerod container.', default: {} },
  )
}

function storageSchema(d: NodeDefaults) {
  const retentionPolicy = (description: string) => StringEnum({ enum: ['Retain', 'Delete'], default: 'Retain', description })
  return withCel(
    Type.Object(
      {
        size: { ...quantity("Size of each replica's data volume (mainnet needs 250Gi+, pruned ~100Gi)."), default: d.storageSize },
        storageClassName: Type.Optional(
          Type.String({
            description: 'StorageClass of the data volumes; empty uses the cluster default. Cannot change after creation.',
            maxLength: 253,
          }),
        ),
        retention: Type.Object(
          {
            whenDeleted: retentionPolicy('When the resource is deleted.'),
            whenScaled: retentionPolicy('When replicas are removed by scaling down.'),
          },
          {
            description: 'What happens to data volumes (PersistentVolumeClaimRetentionPolicy). Retain keeps the chain data; Delete removes it.',
            default: {},
          },
        ),
      },
      { description: 'The persistent volume of each replica that holds the blockchain.', default: {} },
    ),
    // Transition rules (they compare with oldSelf): only the apiserver can check them, so they
    // are CEL only, not SpecRules the hook runs too.
    [
      {
        rule: 'has(self.size) == has(oldSelf.size) && (!has(self.size) || self.size == oldSelf.size)',
        message: 'storage.size cannot change after creation (StatefulSet volume templates are immutable); expand each PersistentVolumeClaim instead',
      },
      {
        rule: 'has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)',
        message: 'storage.storageClassName cannot change after creation',
      },
    ],
  )
}

/** `service` (its rules, SERVICE_RULES, are attached in nodeSpecProperties). */
export const serviceSchema = Type.Object(
  {
    type: StringEnum({
      enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
      default: 'ClusterIP',
      description: 'Service type: ClusterIP, NodePort or LoadBalancer.',
    }),
    annotations: Type.Optional(MapOf(Type.String(), { description: 'Annotations on the Service (e.g. for a cloud load balancer).' })),
    p2p: Type.Boolean({ default: true, description: 'Expose the P2P port.' }),
    restrictedRpc: Type.Boolean({ default: true, description: 'Expose the restricted (view-only) RPC port.' }),
    externalTrafficPolicy: Type.Optional(
      StringEnum({
        enum: ['Cluster', 'Local'],
        description: 'For NodePort and LoadBalancer: Local keeps client source addresses.',
      }),
    ),
    loadBalancerSourceRanges: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        description: 'For LoadBalancer: CIDRs allowed to connect.',
        maxItems: 64,
      }),
    ),
  },
  {
    description: 'The client Service in front of all replicas (a headless Service for pod DNS always exists too).',
    default: {},
  },
)

/** `metrics` (its rules, METRICS_RULES, are attached in nodeSpecProperties). */
export const metricsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the exporter sidecar.' }),
    port: Type.Integer({ format: 'int32', minimum: 1024, maximum: 65535, default: 9533, description: 'Port of /metrics.' }),
    image: Type.Optional(
      Type.String({
        maxLength: 512,
        description: "Exporter image; empty uses the operator's own image (the one serving the hooks).",
      }),
    ),
    readiness: StringEnum({
      enum: ['rpc', 'synchronized'],
      default: 'rpc',
      description:
        'What a Ready pod means. rpc: monerod answers RPC. synchronized: monerod also reports itself synchronized (a syncing node stays out of the Services).',
    }),
    podMonitor: Type.Optional(podMonitorSchema),
  },
  {
    description:
      "Prometheus metrics: an exporter sidecar reads monerod's RPC on 127.0.0.1 inside the pod and serves /metrics on this port (also on the Services).",
    default: {},
  },
)

/**
 * Most replicas a set may have while Tor or I2P is enabled: all replicas' keys live in one
 * Secret, and Metacontroller keeps a copy of each child in its last-applied annotation
 * (annotations are limited to 256 KiB in total; about 2 KiB of keys per replica, plus the
 * checked-keys record, which is in the Secret's annotations and in that copy: 244 KB in all at
 * 100 replicas with Tor and both I2P services, hooks/nodes/anonymity.test.ts).
 */
export const MAX_ANONYMOUS_REPLICAS = 100

/** `spec.tor` / `spec.i2p`: a hidden service per replica and monerod wired to the network. */
export function anonymitySchema(network: 'tor' | 'i2p') {
  const label = network === 'tor' ? 'Tor' : 'I2P'
  const daemon = network === 'tor' ? 'tor' : 'i2pd'
  const inboundPort = network === 'tor' ? 18084 : 18085
  const keyFiles =
    network === 'tor'
      ? '"<replica>.hs_ed25519_secret_key" (96 bytes as tor writes it; "<replica>.hs_ed25519_public_key" and "<replica>.hostname" are optional and checked)'
      : '"<replica>.monerod.dat" (an i2pd private keys file; "<replica>.monerod-rpc.dat" too when publish.restrictedRpc)'
  return Type.Object(
    {
      enabled: Type.Boolean({ default: false, description: `Run ${daemon} beside monerod and publish every replica on ${label}.` }),
      image: Type.Optional(
        Type.String({
          maxLength: 512,
          description: `${daemon} sidecar image; empty uses the operator's own image (which ships ${daemon}). Another image must provide the ${daemon} binary on PATH.`,
        }),
      ),
      publish: withCel(
        Type.Object(
          {
            p2p: Type.Boolean({
              default: true,
              description: `Accept P2P connections from ${label} peers (monerod's anonymous inbound on 127.0.0.1:${inboundPort}).`,
            }),
            restrictedRpc: Type.Boolean({
              default: false,
              description:
                network === 'tor'
                  ? 'Also serve the restricted (view-only) RPC on the onion address (port 18089, 28089 or 38089 by nettype).'
                  : 'Also serve the restricted (view-only) RPC, on a second I2P destination of its own (status.hiddenServices[].i2pRestrictedRpc).',
            }),
          },
          {
            description: `Which monerod ports each replica's ${label} address serves.`,
            // explicit: the apiserver checks the rule below against the default itself
            default: { p2p: true, restrictedRpc: false },
          },
        ),
        [
          {
            rule: '!has(self.p2p) || !has(self.restrictedRpc) || self.p2p || self.restrictedRpc',
            message: `${network}.publish: publish at least one of p2p and restrictedRpc`,
          },
        ],
      ),
      maxConnections: Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 1024,
        default: 16,
        description: `Most outgoing ${label} connections monerod uses to relay transactions (the max of --tx-proxy ${network},...).`,
      }),
      inboundMaxConnections: Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 4096,
        default: 64,
        description: `Most incoming ${label} P2P connections per replica (the max of --anonymous-inbound).`,
      }),
      keysSecretName: Type.Optional(
        Type.String({
          maxLength: 253,
          pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
          description: `Bring your own keys: a Secret in this namespace with entries for every replica 0..replicas-1, ${keyFiles}. Without it the operator derives each replica's keys from its key seed and keeps them in its own Secret.`,
        }),
      ),
      rotation: Type.String({
        maxLength: 63,
        default: '',
        pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$',
        description: `Part of what the operator derives the ${label} keys from (with the installation's key seed, namespace, name and replica). A resource deleted and re-created with the same name and rotation gets the same addresses back; changing it gives every replica a new address (e.g. "2" or "2025-06"). Not used for replicas whose keys come from keysSecretName.`,
      }),
    },
    {
      description: `${label}: a ${daemon} sidecar in every monerod pod, monerod relaying transactions through ${label} (--tx-proxy) and each replica reachable at its own, stable ${label} address (--anonymous-inbound), listed in status.hiddenServices.`,
      default: {},
    },
  )
}

/** `soloMining`: monerod's unrestricted RPC opened to named miners (off by default; its rules, SOLO_MINING_RULES, are attached in nodeSpecProperties). */
export const soloMiningSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: "Bind monerod's unrestricted RPC on the pod's addresses and admit the miners to it through a NetworkPolicy.",
    }),
    miners: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_PARENT_NAME, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }), {
        description:
          'Names of the MoneroMiningNodeSets, in this namespace, whose pods may reach the unrestricted RPC (point their pool.url at <pod>.<headless Service>:<RPC port> with --daemon). Required when enabled.',
        minItems: 1,
        maxItems: 32,
        'x-kubernetes-list-type': 'set',
      }),
    ),
  },
  {
    description:
      "Solo mining against these nodes (xmrig --daemon), which needs monerod's unrestricted RPC (get_block_template, submit_block, and every other admin method: stop_daemon, set_bans, generateblocks...). Off: that RPC listens on 127.0.0.1 inside the pod only. enabled: monerod binds it on the pod's addresses (port 18081, 28081 or 38081 by nettype, container port rpc-mining) and the operator adds a NetworkPolicy that admits only the pods of the MoneroMiningNodeSets named in miners to that port and leaves every other port of the pods open. It is restricted only where the cluster's network plugin enforces NetworkPolicy; elsewhere any pod in the cluster can reach it.",
    default: {},
  },
)

/** Everything that describes one monerod replica: a MoneroNodeSet spec minus replicas. */
export function nodeSpecProperties(d: NodeDefaults) {
  return {
    metrics: withRules(metricsSchema, METRICS_RULES),
    tor: anonymitySchema('tor'),
    i2p: anonymitySchema('i2p'),
    soloMining: withRules(soloMiningSchema, SOLO_MINING_RULES),
    hardAntiAffinity: hardAntiAffinityField,
    monerod: monerodSchema(d),
    storage: storageSchema(d),
    service: withRules(serviceSchema, SERVICE_RULES),
    podSecurity: podSecurityField,
    terminationGracePeriodSeconds: Type.Integer({
      format: 'int64',
      minimum: 30,
      maximum: 86400,
      default: 600,
      description: 'Seconds monerod gets to close its database cleanly when a pod stops.',
    }),
    ...schedulingProperties,
  }
}

/** The node spec as a schema of its own (the type NodeSpec derives from it). */
export const nodeSpecSchema = (d: NodeDefaults) => Type.Object(nodeSpecProperties(d))

/**
 * CEL on a spec whose node settings are at `path` (`self` or `self.template.spec`). The
 * hook rejects --tx-proxy / --anonymous-inbound in monerod.args itself: a CEL rule over
 * the args list would exceed the apiserver's cost budget.
 */
export function anonymityRules(path: string, specPath: string): CelRule[] {
  const on = (n: string) => `(has(${path}.${n}) && ${path}.${n}.enabled)`
  return [
    {
      rule: `!(${on('tor')} || ${on('i2p')}) || self.replicas <= ${MAX_ANONYMOUS_REPLICAS}`,
      message: `replicas: at most ${MAX_ANONYMOUS_REPLICAS} while ${specPath}tor or ${specPath}i2p is enabled (all replicas' hidden-service keys share one Secret)`,
    },
  ]
}

/** status.hiddenServices: public addresses only, never key material. */
export const hiddenServicesStatus: JsonSchema = {
  type: 'array',
  description:
    "The public Tor and I2P addresses of each replica (listed while tor or i2p is enabled). Peers and wallets pin these: back up the operator's key seed or the keys Secret to keep them.",
  items: {
    type: 'object',
    required: ['replica'],
    properties: {
      replica: { type: 'integer', format: 'int32', description: 'StatefulSet ordinal of the replica (pod <workload>-<replica>).' },
      onion: { type: 'string', description: 'Onion v3 address (<56 characters>.onion) serving the published ports.' },
      i2p: { type: 'string', description: 'I2P address (<52 characters>.b32.i2p) of the P2P inbound.' },
      i2pRestrictedRpc: { type: 'string', description: 'I2P address of the restricted RPC, when i2p.publish.restrictedRpc.' },
    },
  },
}

/** The Ready condition as the Status column of the node kinds. */
export const readyColumn = {
  name: 'Ready',
  type: 'string',
  description: 'Ready condition',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
}

/** The replica counts of the node kinds. */
export const replicaColumns = [
  { name: 'Desired', type: 'integer', description: 'Desired replicas', jsonPath: '.spec.replicas' },
  { name: 'Current', type: 'integer', description: 'Existing pods', jsonPath: '.status.replicas' },
  { name: 'Ready', type: 'integer', description: 'Ready pods', jsonPath: '.status.readyReplicas' },
  { name: 'Up-to-date', type: 'integer', description: 'Pods on the latest spec', jsonPath: '.status.updatedReplicas' },
]
