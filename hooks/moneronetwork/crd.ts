/**
 * The MoneroNetwork CRD: replicas and a template of the shared node spec. Its spec schema
 * (TypeBox) is the source of the MoneroNetworkSpec type (./types.ts) and of the CRD
 * (`npm run gen:crds` writes crds/moneronetworks.yaml).
 */
import { Type } from '@sinclair/typebox'
import { podLabelsField, replicasField, workloadStatusProperties } from '../api/schema-parts.js'
import { buildCrd } from '../api/crd.js'
import { MapOf, withCel } from '../api/structural.js'
import { anonymityRules, hiddenServicesStatus, nodeSpecProperties, readyColumn, replicaColumns, type NodeDefaults } from '../node-spec/schema.js'

const NETWORK_DEFAULTS: NodeDefaults = {
  storageSize: '5Gi',
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '2Gi' },
}

/** The schema of a MoneroNetwork's spec. */
export const moneroNetworkSpecSchema = withCel(
  Type.Object(
    {
      replicas: replicasField('peers in the network', 2, 1000),
      template: Type.Object(
        {
          metadata: Type.Optional(
            Type.Object(
              {
                labels: Type.Optional(podLabelsField),
                annotations: Type.Optional(MapOf(Type.String(), { description: 'Annotations added to every peer pod.' })),
              },
              { description: 'Labels and annotations added to every peer pod.' },
            ),
          ),
          spec: Type.Object(nodeSpecProperties(NETWORK_DEFAULTS), {
            description: 'Settings of each peer (as a MoneroNodeSet spec, without replicas).',
            default: {},
          }),
        },
        { description: 'What every peer of the network looks like.' },
      ),
    },
    { description: 'Desired state of the network.' },
  ),
  anonymityRules('self.template.spec', 'spec.template.spec.'),
)

/** The MoneroNetwork CRD: a closed network of monerod peers. */
export function buildMoneroNetworkCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNetwork',
    plural: 'moneronetworks',
    shortNames: ['mnet'],
    description: 'A private network of monerod peers (regtest, testnet or stagenet) that connect only to each other.',
    spec: moneroNetworkSpecSchema,
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
