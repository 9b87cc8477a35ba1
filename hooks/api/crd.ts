/**
 * The CustomResourceDefinition around a kind's spec schema: names, the status and scale
 * subresources, the printer columns every kind has and the rule on metadata.name. Each kind
 * builds its own CRD with it (hooks/<kind>/crd.ts) from its TypeBox spec schema, rendered to
 * the CRD's plain JSON by ./structural.ts.
 */
import type { TSchema } from '@sinclair/typebox'
import { MAX_PARENT_NAME } from '../names.js'
import { API_GROUP, API_VERSION } from './group.js'
import { type JsonSchema, renderSchema } from './structural.js'

/** The Synced condition: False (with the reason, and the message in `-o wide`) when the hook refused the spec. */
const syncedColumns = [
  {
    name: 'Synced',
    type: 'string',
    description: 'Whether the hook accepted the current spec (Synced condition)',
    jsonPath: '.status.conditions[?(@.type=="Synced")].status',
  },
  {
    name: 'Reason',
    type: 'string',
    description: 'Reason of the Synced condition (InvalidSpec, KeySeedMissing, KeysSecretInvalid when refused)',
    jsonPath: '.status.conditions[?(@.type=="Synced")].reason',
  },
  {
    name: 'Message',
    type: 'string',
    priority: 1,
    description: 'Why the spec was refused: the field and the problem',
    jsonPath: '.status.conditions[?(@.type=="Synced")].message',
  },
]

const nameRule = {
  rule: `size(self.metadata.name) <= ${MAX_PARENT_NAME}`,
  message: `metadata.name: at most ${MAX_PARENT_NAME} characters (child names and pod host names derive from it)`,
}

interface CrdInput {
  kind: string
  plural: string
  shortNames: string[]
  description: string
  /** The spec schema (TypeBox; the kind's spec type derives from it). */
  spec: TSchema
  /** The status fields, plain JSON schema (written by the operator, no type derives from them). */
  statusProperties: Record<string, JsonSchema>
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
          additionalPrinterColumns: [...input.printerColumns, ...syncedColumns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec: renderSchema(input.spec, 'spec'),
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
