/** The MoneroNodeSet spec type, derived from its TypeBox schema (./crd.ts); it describes the spec after defaulting. */
import type { Static } from '@sinclair/typebox'
import type { moneroNodeSetSpecSchema } from './crd.js'

/** A MoneroNodeSet spec after defaulting: the shared node spec plus replicas. */
export type MoneroNodeSetSpec = Static<typeof moneroNodeSetSpecSchema>
