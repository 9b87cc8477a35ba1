/**
 * Builds the CustomResourceDefinitions of our three kinds from shared schema fragments.
 * `npm run gen:crds` writes them to crds/; a test fails when crds/ differs from this output.
 */
import {
  argsField,
  conditionsField,
  envList,
  hardAntiAffinityField,
  imageField,
  podSecurityField,
  pullPolicy,
  quantity,
  replicasField,
  resources,
  schedulingProperties,
  workloadStatusProperties,
  type Schema,
} from './schema-parts.js'
import { API_GROUP, API_VERSION, DEFAULT_MONEROD_IMAGE } from './defaults.js'
import { MAX_PARENT_NAME } from '../names.js'
import { buildMoneroMiningNodeSetCrd } from './crd-mining.js'

interface NodeDefaults {
  storageSize: string
  requests: Record<string, string>
  limits: Record<string, string>
}

/** Operator-owned monerod flags (exact spellings) that CEL rejects at apply time. */
export const RESERVED_MONEROD_FLAGS = [
  'data-dir',
  'rpc-bind-ip',
  'rpc-bind-port',
  'rpc-restricted-bind-ip',
  'rpc-restricted-bind-port',
  'p2p-bind-port',
  'confirm-external-bind',
  'detach',
  'pidfile',
  'config-file',
]

function monerodSchema(d: NodeDefaults): Schema {
  const flagRule = RESERVED_MONEROD_FLAGS.map((f) => `a == '--${f}' || a.startsWith('--${f}=')`).join(' || ')
  return {
    type: 'object',
    description: 'The monerod container.',
    default: {},
    properties: {
      image: imageField('monerod', DEFAULT_MONEROD_IMAGE),
      imagePullPolicy: pullPolicy,
      args: {
        ...argsField('monerod'),
        'x-kubernetes-validations': [
          {
            rule: `!self.exists(a, ${flagRule})`,
            message: `monerod.args: ${RESERVED_MONEROD_FLAGS.map((f) => `--${f}`).join(', ')} are set by the operator (data on the volume, unrestricted RPC on 127.0.0.1 only, fixed ports)`,
          },
          {
            rule: "self.filter(a, a == '--testnet' || a == '--stagenet' || a == '--regtest').size() <= 1",
            message: 'monerod.args: choose at most one of --testnet, --stagenet, --regtest',
          },
        ],
      },
      env: envList('monerod'),
      resources: { ...resources('monerod'), default: { requests: d.requests, limits: d.limits } },
    },
  }
}

function storageSchema(d: NodeDefaults): Schema {
  return {
    type: 'object',
    description: 'The persistent volume of each replica that holds the blockchain.',
    default: {},
    properties: {
      size: { ...quantity('Size of each replica\'s data volume (mainnet needs 250Gi+, pruned ~100Gi).'), default: d.storageSize },
      storageClassName: {
        type: 'string',
        description: 'StorageClass of the data volumes; empty uses the cluster default. Cannot change after creation.',
        maxLength: 253,
      },
      retention: {
        type: 'object',
        description:
          'What happens to data volumes (PersistentVolumeClaimRetentionPolicy). Retain keeps the chain data; Delete removes it.',
        default: {},
        properties: {
          whenDeleted: {
            type: 'string',
            enum: ['Retain', 'Delete'],
            default: 'Retain',
            description: 'When the resource is deleted.',
          },
          whenScaled: {
            type: 'string',
            enum: ['Retain', 'Delete'],
            default: 'Retain',
            description: 'When replicas are removed by scaling down.',
          },
        },
      },
    },
    'x-kubernetes-validations': [
      {
        rule: 'self.size == oldSelf.size',
        message:
          'storage.size cannot change after creation (StatefulSet volume templates are immutable); expand each PersistentVolumeClaim instead',
      },
      {
        rule: 'has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)',
        message: 'storage.storageClassName cannot change after creation',
      },
    ],
  }
}

const serviceSchema: Schema = {
  type: 'object',
  description: 'The client Service in front of all replicas (a headless Service for pod DNS always exists too).',
  default: {},
  properties: {
    type: {
      type: 'string',
      enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
      default: 'ClusterIP',
      description: 'Service type: ClusterIP, NodePort or LoadBalancer.',
    },
    annotations: {
      type: 'object',
      description: 'Annotations on the Service (e.g. for a cloud load balancer).',
      additionalProperties: { type: 'string' },
    },
    p2p: { type: 'boolean', default: true, description: 'Expose the P2P port.' },
    restrictedRpc: { type: 'boolean', default: true, description: 'Expose the restricted (view-only) RPC port.' },
    externalTrafficPolicy: {
      type: 'string',
      enum: ['Cluster', 'Local'],
      description: 'For NodePort and LoadBalancer: Local keeps client source addresses.',
    },
    loadBalancerSourceRanges: {
      type: 'array',
      description: 'For LoadBalancer: CIDRs allowed to connect.',
      maxItems: 64,
      items: { type: 'string', maxLength: 64 },
    },
  },
  'x-kubernetes-validations': [
    { rule: 'self.p2p || self.restrictedRpc', message: 'service: expose at least one of p2p and restrictedRpc' },
    {
      rule: "!has(self.externalTrafficPolicy) || self.type != 'ClusterIP'",
      message: 'service.externalTrafficPolicy applies only to NodePort and LoadBalancer services',
    },
    {
      rule: "!has(self.loadBalancerSourceRanges) || self.type == 'LoadBalancer'",
      message: 'service.loadBalancerSourceRanges applies only to LoadBalancer services',
    },
  ],
}

const metricsSchema: Schema = {
  type: 'object',
  description:
    'Prometheus metrics: an exporter sidecar reads monerod\'s RPC on 127.0.0.1 inside the pod and serves /metrics on this port (also on the Services).',
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true, description: 'Run the exporter sidecar.' },
    port: { type: 'integer', format: 'int32', minimum: 1024, maximum: 65535, default: 9533, description: 'Port of /metrics.' },
    image: {
      type: 'string',
      maxLength: 512,
      description: 'Exporter image; empty uses the operator\'s own image (the one serving the hooks).',
    },
    readiness: {
      type: 'string',
      enum: ['rpc', 'synchronized'],
      default: 'rpc',
      description:
        'What a Ready pod means. rpc: monerod answers RPC. synchronized: monerod also reports itself synchronized (a syncing node stays out of the Services).',
    },
    podMonitor: {
      type: 'object',
      description:
        'A Prometheus Operator PodMonitor for the set. Needs the PodMonitor CRD and podmonitors in the CompositeController\'s child resources (see the README).',
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Create the PodMonitor.' },
        interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', description: 'Scrape interval, e.g. 30s.' },
        labels: {
          type: 'object',
          description: 'Labels on the PodMonitor (e.g. the one your Prometheus selects monitors by).',
          additionalProperties: { type: 'string' },
        },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!has(self.podMonitor) || !self.podMonitor.enabled || self.enabled',
      message: 'metrics.podMonitor needs metrics.enabled: true (it scrapes the exporter sidecar)',
    },
    {
      rule: "!(self.port in [18080, 18081, 18082, 18083, 18084, 18085, 18089, 28080, 28081, 28082, 28089, 38080, 38081, 38082, 38089, 4447, 7070, 9050])",
      message: 'metrics.port collides with a monerod, tor or i2pd port',
    },
  ],
}

/** Everything that describes one monerod replica: a MoneroNodeSet spec minus replicas. */
export function nodeSpecProperties(d: NodeDefaults): Record<string, Schema> {
  return {
    metrics: metricsSchema,
    hardAntiAffinity: hardAntiAffinityField,
    monerod: monerodSchema(d),
    storage: storageSchema(d),
    service: serviceSchema,
    podSecurity: podSecurityField,
    terminationGracePeriodSeconds: {
      type: 'integer',
      format: 'int64',
      minimum: 30,
      maximum: 86400,
      default: 600,
      description: 'Seconds monerod gets to close its database cleanly when a pod stops.',
    },
    ...schedulingProperties,
  }
}

const NODESET_DEFAULTS: NodeDefaults = {
  storageSize: '300Gi',
  requests: { cpu: '1', memory: '2Gi' },
  limits: { memory: '8Gi' },
}

const NETWORK_DEFAULTS: NodeDefaults = {
  storageSize: '5Gi',
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '2Gi' },
}

const readyColumn = {
  name: 'Ready',
  type: 'string',
  description: 'Ready condition',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
}

const nameRule = {
  rule: `size(self.metadata.name) <= ${MAX_PARENT_NAME}`,
  message: `metadata.name: at most ${MAX_PARENT_NAME} characters (child names and pod host names derive from it)`,
}

interface CrdInput {
  kind: string
  plural: string
  shortNames: string[]
  description: string
  spec: Schema
  statusProperties: Record<string, Schema>
  printerColumns: Record<string, unknown>[]
}

export function buildCrd(input: CrdInput): Record<string, unknown> {
  const singular = input.kind.toLowerCase()
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${input.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'monero-operator' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular,
        shortNames: input.shortNames,
        categories: ['monero'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [...input.printerColumns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec: input.spec,
                status: {
                  type: 'object',
                  description: 'Observed state, written by the operator.',
                  properties: input.statusProperties,
                },
              },
              'x-kubernetes-validations': [nameRule],
            },
          },
        },
      ],
    },
  }
}

const replicaColumns = [
  { name: 'Desired', type: 'integer', description: 'Desired replicas', jsonPath: '.spec.replicas' },
  { name: 'Current', type: 'integer', description: 'Existing pods', jsonPath: '.status.replicas' },
  { name: 'Ready', type: 'integer', description: 'Ready pods', jsonPath: '.status.readyReplicas' },
  { name: 'Up-to-date', type: 'integer', description: 'Pods on the latest spec', jsonPath: '.status.updatedReplicas' },
]

/** The MoneroNodeSet CRD. */
export function buildMoneroNodeSetCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNodeSet',
    plural: 'moneronodesets',
    shortNames: ['mns', 'moneronodes'],
    description:
      'A highly available set of identically configured monerod full nodes, each with its own persistent chain data.',
    spec: {
      type: 'object',
      description: 'Desired state of the node set.',
      properties: {
        replicas: replicasField('monerod replicas', 1, 1000),
        ...nodeSpecProperties(NODESET_DEFAULTS),
      },
    },
    statusProperties: workloadStatusProperties,
    printerColumns: [...replicaColumns, { ...readyColumn, name: 'Status' }],
  })
}

/** The MoneroNetwork CRD: a closed network of monerod peers. */
export function buildMoneroNetworkCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNetwork',
    plural: 'moneronetworks',
    shortNames: ['mnet'],
    description:
      'A private network of monerod peers (regtest, testnet or stagenet) that connect only to each other.',
    spec: {
      type: 'object',
      description: 'Desired state of the network.',
      required: ['template'],
      properties: {
        replicas: replicasField('peers in the network', 2, 1000),
        template: {
          type: 'object',
          description: 'What every peer of the network looks like.',
          properties: {
            metadata: {
              type: 'object',
              description: 'Labels and annotations added to every peer pod.',
              properties: {
                labels: schedulingProperties.podLabels as Schema,
                annotations: {
                  type: 'object',
                  description: 'Annotations added to every peer pod.',
                  additionalProperties: { type: 'string' },
                },
              },
            },
            spec: {
              type: 'object',
              description: 'Settings of each peer (as a MoneroNodeSet spec, without replicas).',
              default: {},
              properties: nodeSpecProperties(NETWORK_DEFAULTS),
            },
          },
        },
      },
    },
    statusProperties: {
      ...workloadStatusProperties,
      nettype: { type: 'string', description: 'Network type of the peers: mainnet, testnet, stagenet or regtest.' },
      peerCount: { type: 'integer', format: 'int32', description: 'Number of peers in the shared exclusive peer list.' },
      peers: {
        type: 'array',
        description: 'P2P endpoints of the peers (host:port), listed while the network has at most 32 peers.',
        items: { type: 'string' },
      },
    },
    printerColumns: [...replicaColumns, { name: 'Net', type: 'string', jsonPath: '.status.nettype' }, { ...readyColumn, name: 'Status' }],
  })
}

/** All CRDs keyed by the file name they are written to in crds/. */
export function buildAllCrds(): Record<string, Record<string, unknown>> {
  return {
    'moneronodesets.yaml': buildMoneroNodeSetCrd(),
    'moneronetworks.yaml': buildMoneroNetworkCrd(),
    'monerominingnodesets.yaml': buildMoneroMiningNodeSetCrd(),
  }
}

export { conditionsField }
