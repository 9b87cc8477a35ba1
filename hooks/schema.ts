/**
 * Request validation compiled from the CRDs as built in memory (hooks/api, from which crds/
 * is generated, and checked to match, by `npm run gen:crds` and its test). Unknown
 * fields are rejected (as `kubectl apply`'s strict field validation does) and schema defaults
 * are applied (as the apiserver does), so the hook and `render` see what the cluster stores.
 * CEL rules (x-kubernetes-validations) run only in the apiserver; the few that guard our
 * contract are re-checked in the sync code with the same messages.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { buildAllCrds } from './api/crds.js'

type Json = Record<string, unknown>

/** A validation failure: where (a dotted path) and what. */
export interface FieldError {
  readonly field: string
  readonly message: string
}

const K8S_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-map-type',
]

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

function newAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strictTypes: false,
    allowUnionTypes: true,
    coerceTypes: false,
    // The schemas are our own, generated and tested (and the apiserver checks them as CRDs):
    // no meta-schema to add and compile at start-up, which was most of the start-up time.
    meta: false,
    validateSchema: false,
  })
  for (const keyword of K8S_KEYWORDS) ajv.addKeyword({ keyword })
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) })
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i)
  return ajv
}

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

/** Compiles validators for every kind found in crds/ (once, at start-up). */
export function compileValidators(crds: Json[] = loadCrds()): Map<string, KindValidator> {
  const ajv = newAjv()
  const out = new Map<string, KindValidator>()
  for (const crd of crds) {
    const spec = crd.spec as Json
    const kind = (spec.names as Json).kind as string
    const version = (spec.versions as Json[])[0] as Json
    const root = ((version.schema as Json).openAPIV3Schema as Json).properties as Json
    const fn: ValidateFunction = ajv.compile(closeObjects(root.spec) as Json)
    out.set(kind, {
      kind,
      validateSpec(value: unknown): FieldError[] {
        return fn(value) ? [] : toFieldErrors(fn.errors)
      },
    })
  }
  return out
}
