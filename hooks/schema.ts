/**
 * Validation of each kind's spec against its CRD schema, as the CRDs are built in memory
 * (hooks/api, from which crds/ is generated). Unknown fields are rejected (as `kubectl apply`'s
 * strict field validation does) and schema defaults are applied (as the apiserver does), so the
 * hook and `render` see what the cluster stores. CEL rules (x-kubernetes-validations) run only
 * in the apiserver; the ones that guard our contract are SpecRules, checked in the sync code.
 *
 * The validators are ajv's standalone code, generated at build time from these same in-memory
 * schemas (`npm run build` runs hooks/api/write-validators.ts after tsc) into
 * dist/hooks/validators.cjs, so start-up compiles nothing. The generated module carries a
 * digest of the schemas it was made from; loadValidators() refuses a module whose digest is not
 * that of the schemas this build makes, so stale validators cannot be used.
 */
import type { ErrorObject } from 'ajv'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { buildAllCrds } from './api/crds.js'

type Json = Record<string, unknown>

/** A validation failure: where (a dotted path) and what. */
export interface FieldError {
  readonly field: string
  readonly message: string
}

/** Every CRD, as built in memory (the objects crds/*.yaml are written from). */
export function loadCrds(): Json[] {
  return Object.values(buildAllCrds()) as Json[]
}

/** Makes structural-schema objects closed, as strict field validation treats them. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects)
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'enum' ? v : closeObjects(v)
  if (out.properties && out['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

/** The schema each kind's `spec` is validated against, by kind: the CRD's, with objects closed. */
export function specSchemas(crds: Json[] = loadCrds()): Map<string, Json> {
  const out = new Map<string, Json>()
  for (const crd of crds) {
    const spec = crd.spec as Json
    const kind = (spec.names as Json).kind as string
    const version = (spec.versions as Json[])[0] as Json
    const root = ((version.schema as Json).openAPIV3Schema as Json).properties as Json
    out.set(kind, closeObjects(root.spec) as Json)
  }
  return out
}

/** The digest of the spec schemas that a generated validator module must carry. */
export function schemaDigest(schemas: Map<string, Json>): string {
  return createHash('sha256')
    .update(JSON.stringify([...schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
    .digest('hex')
}

/** Where the build writes the generated validators (beside this module in dist/hooks/). */
export const VALIDATORS_MODULE = fileURLToPath(new URL('./validators.cjs', import.meta.url))

/** A compiled validator of one kind's spec. */
export interface KindValidator {
  readonly kind: string
  /** Validates `spec` in place, applying defaults; returns the errors (empty when valid). */
  validateSpec(spec: unknown): FieldError[]
}

function toFieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if')
    .map((e) => {
      let field = `spec${e.instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.')}`
      let message = e.message ?? 'is invalid'
      if (e.keyword === 'additionalProperties') {
        field += `.${String((e.params as { additionalProperty: string }).additionalProperty)}`
        message = 'is not a known field (check the spelling; see `kubectl explain`)'
      } else if (e.keyword === 'enum') {
        message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      } else if (e.keyword === 'pattern' && /resources|size/.test(field)) {
        message = 'must be a Kubernetes quantity such as "500m", "2", "4Gi"'
      } else if (e.keyword === 'type' && e.schemaPath.includes('/anyOf/')) {
        message = 'must be a number or a quantity string'
      }
      return { field, message }
    })
    .filter((e, i, all) => all.findIndex((o) => o.field === e.field && o.message === e.message) === i)
}

/** An ajv standalone validate function: true when valid, else its errors in `.errors`. */
type GeneratedValidate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

/**
 * The validators of every kind, from the generated module (default: the build's). Throws, naming
 * the fix, when the module is missing or was generated from other schemas than these.
 */
export function loadValidators(modulePath: string = VALIDATORS_MODULE): Map<string, KindValidator> {
  if (!existsSync(modulePath)) {
    throw new Error(`${modulePath} is missing: the validators are generated at build time (run \`npm run build\`)`)
  }
  const generated = createRequire(import.meta.url)(modulePath) as Record<string, unknown>
  const schemas = specSchemas()
  const digest = schemaDigest(schemas)
  if (generated.schemaDigest !== digest) {
    throw new Error(`${modulePath} was generated from other CRD schemas than this build's: regenerate it (run \`npm run build\`)`)
  }
  const out = new Map<string, KindValidator>()
  for (const kind of schemas.keys()) {
    const fn = generated[kind] as GeneratedValidate | undefined
    if (typeof fn !== 'function') throw new Error(`${modulePath} has no validator for ${kind}: regenerate it (run \`npm run build\`)`)
    out.set(kind, { kind, validateSpec: (value) => (fn(value) ? [] : toFieldErrors(fn.errors)) })
  }
  return out
}
