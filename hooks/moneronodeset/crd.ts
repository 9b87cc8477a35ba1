/** The MoneroNodeSet CRD: the shared node spec plus replicas. */
import { replicasField, workloadStatusProperties } from '../api/schema-parts.js'
import { buildCrd } from '../api/crd.js'
import { anonymityRules, hiddenServicesStatus, nodeSpecProperties, readyColumn, replicaColumns, type NodeDefaults } from '../node-spec/schema.js'

const NODESET_DEFAULTS: NodeDefaults = {
  storageSize: '300Gi',
  requests: { cpu: '1', memory: '2Gi' },
  limits: { memory: '8Gi' },
}

/** The MoneroNodeSet CRD. */
export function buildMoneroNodeSetCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNodeSet',
    plural: 'moneronodesets',
    shortNames: ['mns', 'moneronodes'],
    description: 'A highly available set of identically configured monerod full nodes, each with its own persistent chain data.',
    spec: {
      type: 'object',
      description: 'Desired state of the node set.',
      properties: {
        replicas: replicasField('monerod replicas', 1, 1000),
        ...nodeSpecProperties(NODESET_DEFAULTS),
      },
      'x-kubernetes-validations': anonymityRules('self', 'spec.'),
    },
    statusProperties: { ...workloadStatusProperties, hiddenServices: hiddenServicesStatus },
    printerColumns: [...replicaColumns, { ...readyColumn, name: 'Status' }],
  })
}
