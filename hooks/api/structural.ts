/**
 * TypeBox for Kubernetes structural schemas. Every spec schema is written once, with TypeBox,
 * and two things come out of it: the TypeScript type of the spec (`Static<typeof schema>`, in
 * each kind's types.ts) and the openAPIV3Schema of the CRD (`renderSchema`, called by
 * ./crd.ts; `npm run gen:crds` writes the result to crds/).
 *
 * One rule links the two. The types describe a spec after defaulting (the apiserver, or the
 * hook's ajv validator, fills every `default`), so a property is present in the type unless it
 * is wrapped in `Type.Optional`; the CRD's `required` lists only the present properties that
 * have no `default` (the apiserver fills the others before it checks `required`). A property
 * both Optional and defaulted is refused: it would be present in the data and optional in the
 * type.
 *
 * The helpers below cover what TypeBox spells differently from a structural schema: string
 * enums (TypeBox writes unions of consts), maps (TypeBox writes patternProperties), int-or-string
 * and Kubernetes objects kept as given (`x-kubernetes-preserve-unknown-fields`, typed with the
 * @kubernetes/client-node type).
 */
import { Kind, KindGuard, type SchemaOptions, type Static, type TSchema, type TUnsafe, Type } from '@sinclair/typebox'
import { celRules, type SpecRule } from '../rules.js'

/** A schema node as written to the CRD (plain JSON). */
export type JsonSchema = Record<string, unknown>

/** A CEL rule of `x-kubernetes-validations`. */
export interface CelRule {
  rule: string
  message: string
}

/** A string from a fixed list (`enum`); the keys keep the order they are written in. */
export function StringEnum<const V extends readonly [string, ...string[]]>(options: SchemaOptions & { enum: V }): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', ...options })
}

/** An object with arbitrary keys and values of one schema (`additionalProperties`). */
export function MapOf<T extends TSchema>(values: T, options: SchemaOptions = {}): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', ...options, additionalProperties: values })
}

/**
 * An integer or a string (`x-kubernetes-int-or-string`), as quantities and IntOrString are.
 * Structural schemas allow only bare types in its anyOf: other keywords (pattern for the string
 * form, minimum for the integer form) sit beside it.
 */
export function IntOrString({ description, ...rest }: SchemaOptions): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    description,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...rest,
  })
}

/** A Kubernetes object passed through as given (its fields are the apiserver's to check), typed as `V`. */
export function KubeObject<V>(description: string): TUnsafe<V> {
  return Type.Unsafe<V>({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true })
}

/** `schema` with CEL rules that only the apiserver runs (transition rules, rules too costly to state twice). */
export function withCel<T extends TSchema>(schema: T, rules: readonly CelRule[]): T {
  return { ...schema, 'x-kubernetes-validations': rules.map((r) => ({ ...r })) }
}

/**
 * `schema` with its SpecRules (../rules.ts): their CEL goes into the CRD, and their checks are
 * typed on the schema's own type. (`NoInfer`: the schema fixes the type, the rules follow it.)
 */
export function withRules<T extends TSchema>(schema: T, rules: readonly SpecRule<Static<NoInfer<T>>>[]): T {
  return withCel(schema, celRules(rules))
}

/** Keys whose value is a schema, or a list or map of schemas; every other key holds a value. */
const SCHEMA_KEYS = new Set(['items', 'additionalProperties', 'not'])
const SCHEMA_LIST_KEYS = new Set(['anyOf', 'allOf', 'oneOf'])

const isTypeBox = (node: object): node is TSchema => Kind in node

/** The properties of a TypeBox object the CRD lists as required: present after defaulting, with no default. */
function requiredKeys(properties: Record<string, TSchema>, path: string): string[] {
  return Object.entries(properties)
    .filter(([key, schema]) => {
      const defaulted = 'default' in schema
      if (KindGuard.IsOptional(schema) && defaulted) throw new Error(`${path}.${key}: a defaulted property is always present; drop Type.Optional`)
      return !KindGuard.IsOptional(schema) && !defaulted
    })
    .map(([key]) => key)
}

/**
 * The plain JSON of a schema as the CRD carries it: TypeBox's symbol keys dropped, `type`
 * first (TypeBox appends it after the options), `required` as the rule above says. Values
 * (default, enum, CEL rules...) are copied, so the result shares nothing with the schema.
 */
export function renderSchema(schema: TSchema | JsonSchema, path = ''): JsonSchema {
  const out: JsonSchema = {}
  const required = isTypeBox(schema) && schema[Kind] === 'Object' ? requiredKeys(schema.properties as Record<string, TSchema>, path) : undefined
  if ('type' in schema) out.type = schema.type
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type') continue
    if (key === 'required' && required !== undefined) {
      if (required.length > 0) out.required = required
    } else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, property]) => [name, renderSchema(property, `${path}.${name}`)]),
      )
    } else if (SCHEMA_KEYS.has(key) && typeof value === 'object') {
      out[key] = renderSchema(value as JsonSchema, `${path}.${key}`)
    } else if (SCHEMA_LIST_KEYS.has(key)) {
      out[key] = (value as JsonSchema[]).map((s, i) => renderSchema(s, `${path}.${key}[${i}]`))
    } else {
      out[key] = structuredClone(value)
    }
  }
  return out
}
