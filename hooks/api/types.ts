/**
 * TypeScript types of the spec pieces every kind shares, derived from their TypeBox schemas
 * (./schema-parts.ts). Like every spec type, they describe a spec after the apiserver (or the
 * hook's validator) applied the schema defaults: see ./structural.ts.
 */
import type { Static, TObject } from '@sinclair/typebox'
import type { podSecurityField, resources, schedulingProperties } from './schema-parts.js'

export type { EnvVar } from './schema-parts.js'

/** Requests and limits of a container. */
export type Resources = Static<ReturnType<typeof resources>>

/** Quantities by resource name ("cpu", "memory", "hugepages-2Mi"...). */
export type ResourceList = NonNullable<Resources['requests']>

export type PodSecuritySpec = Static<typeof podSecurityField>

export type SchedulingSpec = Static<TObject<typeof schedulingProperties>>
