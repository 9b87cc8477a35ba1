/** The MoneroNetwork CRD: replicas and a template of the shared node spec. */
import { replicasField, schedulingProperties, workloadStatusProperties, type Schema } from '../api/schema-parts.js'
import { buildCrd } from '../api/crd.js'
import { anonymityRules, hiddenServicesStatus, nodeSpecProperties, readyColumn, replicaColumns, type NodeDefaults } from '../node-spec/schema.js'

const NETWORK_DEFAULTS: NodeDefaults = {
  storageSize: '5Gi',
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '2Gi' },
}

/** The MoneroNetwork CRD: a closed network of monerod peers. */
export function buildMoneroNetworkCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNetwork',
    plural: 'moneronetworks',
    shortNames: ['mnet'],
    description: 'A private network of monerod peers (regtest, testnet or stagenet) that connect only to each other.',
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
      'x-kubernetes-validations': anonymityRules('self.template.spec', 'spec.template.spec.'),
    },
    statusProperties: {
      ...workloadStatusProperties,
      hiddenServices: hiddenServicesStatus,
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
