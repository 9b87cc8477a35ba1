/**
 * TypeScript types of the shared node spec, derived from its TypeBox schema (./schema.ts).
 * They describe the spec after defaulting: a property with a schema default is present (see
 * ../api/structural.ts).
 */
import type { Static } from '@sinclair/typebox'
import type { anonymitySchema, metricsSchema, nodeSpecSchema, serviceSchema, soloMiningSchema } from './schema.js'

/** One monerod replica's settings: a MoneroNodeSet spec without replicas. */
export type NodeSpec = Static<ReturnType<typeof nodeSpecSchema>>

export type MonerodSpec = NodeSpec['monerod']

export type StorageSpec = NodeSpec['storage']

export type ServiceSpec = Static<typeof serviceSchema>

export type MetricsSpec = Static<typeof metricsSchema>

/** `spec.tor` / `spec.i2p` after defaulting. */
export type AnonymitySpec = Static<ReturnType<typeof anonymitySchema>>

/** `spec.soloMining`: the unrestricted RPC opened to the named MoneroMiningNodeSets' pods. */
export type SoloMiningSpec = Static<typeof soloMiningSchema>
