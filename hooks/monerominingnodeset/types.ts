/**
 * TypeScript types of a MoneroMiningNodeSet spec, derived from its TypeBox schema (./crd.ts).
 * They describe the spec after defaulting: a property with a schema default is present (see
 * ../api/structural.ts).
 */
import type { Static } from '@sinclair/typebox'
import type { miningSpecSchema, poolSchema, secretKeyRef, xmrigSchema } from './crd.js'

/** A key of a Secret in the resource's namespace. */
export type SecretKeyRef = Static<ReturnType<typeof secretKeyRef>>

/** The xmrig container; `resources` absent means the operator's defaults (see defaultXmrigResources). */
export type XmrigSpec = Static<typeof xmrigSchema>

/** One pool, rendered to xmrig's -o/-u/-p/--tls/--tls-fingerprint/--coin. */
export type PoolSpec = Static<typeof poolSchema>

export type MoneroMiningNodeSetSpec = Static<typeof miningSpecSchema>
