/** The MoneroNetwork spec type, derived from its TypeBox schema (./crd.ts); it describes the spec after defaulting. */
import type { Static } from '@sinclair/typebox'
import type { moneroNetworkSpecSchema } from './crd.js'

/** A MoneroNetwork spec after defaulting: replicas and a template of the shared node spec. */
export type MoneroNetworkSpec = Static<typeof moneroNetworkSpecSchema>
