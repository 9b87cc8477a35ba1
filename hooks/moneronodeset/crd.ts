/**
 * The MoneroNodeSet CRD: the shared node spec plus replicas. Its spec schema (TypeBox) is
 * the source of the MoneroNodeSetSpec type (./types.ts) and of the CRD (`npm run gen:crds`
 * writes crds/moneronodesets.yaml).
 */
import { Type } from '@sinclair/typebox'
import { replicasField, workloadStatusProperties } from '../api/schema-parts.js'
import { buildCrd } from '../api/crd.js'
import { withCel } from '../api/structural.js'
import { anonymityRules, hiddenServicesStatus, nodeSpecProperties, readyColumn, replicaColumns, type NodeDefaults } from '../node-spec/schema.js'

const NODESET_DEFAULTS: NodeDefaults = {
  storageSize: '300Gi',
  requests: { cpu: '1', memory: '2Gi' },
  limits: { memory: '8Gi' },
}

/** The schema of a MoneroNodeSet's spec. */
export const moneroNodeSetSpecSchema = withCel(
  Type.Object(
    {
      replicas: replicasField('monerod replicas', 1, 1000),
      ...nodeSpecProperties(NODESET_DEFAULTS),
    },
    { description: 'Desired state of the node set.' },
  ),
  anonymityRules('self', 'spec.'),
)

/** The MoneroNodeSet CRD. */
export function buildMoneroNodeSetCrd(): Record<string, unknown> {
  return buildCrd({
    kind: 'MoneroNodeSet',
    plural: 'moneronodesets',
    shortNames: ['mns', 'moneronodes'],
    description: 'A highly available set of identically configured monerod full nodes, each with its own persistent chain data.',
    spec: moneroNodeSetSpecSchema,
    statusProperties: { ...workloadStatusProperties, hiddenServices: hiddenServicesStatus },
    printerColumns: [...replicaColumns, { ...readyColumn, name: 'Status' }],
  })
}
