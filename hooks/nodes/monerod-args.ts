import { MONEROD_OPTIONS, MONEROD_OPTION_NAMES } from './monerod-options.js'

/** One parsed monerod option occurrence. */
export interface ParsedOption {
  /** Canonical long name without dashes, e.g. `public-node` for `--public`. */
  readonly name: string
  /** The value, or undefined for a boolean flag. */
  readonly value?: string | undefined
  /** false when monerod's table does not know the name (kept as written). */
  readonly known: boolean
}

/** A user error in monerod arguments, with the offending argument's position. */
export class ArgumentError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message)
    this.name = 'ArgumentError'
  }
}

/**
 * Resolves a long option name as monerod's parser does: an exact name wins, otherwise a
 * prefix that matches exactly one option. Returns undefined for unknown names and throws
 * for ambiguous prefixes.
 */
export function resolveOptionName(written: string, index = 0): string | undefined {
  if (MONEROD_OPTIONS.has(written)) return written
  const matches = MONEROD_OPTION_NAMES.filter((n) => n.startsWith(written))
  if (matches.length === 1) return matches[0]
  if (matches.length > 1) {
    throw new ArgumentError(`--${written} is ambiguous for monerod: it could be ${matches.map((m) => `--${m}`).join(', ')}`, index)
  }
  return undefined
}

/**
 * Parses monerod arguments (`--flag`, `--flag=value`, `--flag value`). Unknown options are
 * kept as written; an unknown `--name` followed by a token that is not an option takes that
 * token as its value, which is how monerod would read a newer option that takes one.
 */
export function parseMonerodArgs(args: readonly string[]): ParsedOption[] {
  const out: ParsedOption[] = []
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string
    if (!token.startsWith('--') || token === '--') {
      throw new ArgumentError(
        `monerod argument ${JSON.stringify(token)} is not a long option (--name or --name=value); monerod takes no positional arguments`,
        i,
      )
    }
    const eq = token.indexOf('=')
    const written = eq === -1 ? token.slice(2) : token.slice(2, eq)
    if (!/^[a-z0-9][a-z0-9-]*$/.test(written)) {
      throw new ArgumentError(`monerod option ${JSON.stringify(token)} has an invalid name`, i)
    }
    const name = resolveOptionName(written, i)
    const option = name === undefined ? undefined : MONEROD_OPTIONS.get(name)
    let value: string | undefined = eq === -1 ? undefined : token.slice(eq + 1)
    const takesValue = option ? option.value : value !== undefined || isValueToken(args[i + 1])
    if (option && !option.value && value !== undefined) {
      throw new ArgumentError(`--${name} is a flag and takes no value (got ${JSON.stringify(token)})`, i)
    }
    if (takesValue && value === undefined) {
      if (!isValueToken(args[i + 1])) {
        throw new ArgumentError(`--${name ?? written} needs a value (--${name ?? written}=VALUE)`, i)
      }
      value = args[++i] as string
    }
    out.push({ name: name ?? written, value, known: option !== undefined })
  }
  return out
}

function isValueToken(token: string | undefined): token is string {
  return token !== undefined && !token.startsWith('--')
}

/** Renders parsed options back to canonical `--name=value` / `--name` tokens. */
export function renderMonerodArgs(options: readonly ParsedOption[]): string[] {
  return options.map((o) => (o.value === undefined ? `--${o.name}` : `--${o.name}=${o.value}`))
}

/** What the operator sets and why a user may not. */
export interface ReservedOption {
  readonly name: string
  readonly reason: string
}

/**
 * Merges the operator's defaults with the user's arguments.
 *
 * Rule (documented in the README): the user's options come after the defaults, in the order
 * written, all in canonical `--name=value` form. A user option that is not repeatable removes
 * the default of the same name (the user wins). Repeatable options (`--add-exclusive-node`,
 * `--add-peer`, `--tx-proxy`, ...) accumulate, defaults first. Giving a non-repeatable option
 * twice is an error, as in monerod. Reserved options are rejected with their reason.
 */
export function mergeMonerodArgs(defaults: readonly ParsedOption[], userArgs: readonly string[], reserved: readonly ReservedOption[] = []): string[] {
  const user = parseMonerodArgs(userArgs)
  const seen = new Map<string, number>()
  user.forEach((o, i) => {
    const rule = reserved.find((r) => r.name === o.name)
    if (rule) throw new ArgumentError(`--${o.name} cannot be set: ${rule.reason}`, i)
    const repeatable = MONEROD_OPTIONS.get(o.name)?.repeatable ?? false
    if (!repeatable && seen.has(o.name)) {
      throw new ArgumentError(`--${o.name} is given more than once; monerod accepts it once`, i)
    }
    seen.set(o.name, i)
  })
  const kept = defaults.filter((d) => {
    const repeatable = MONEROD_OPTIONS.get(d.name)?.repeatable ?? false
    return repeatable || !seen.has(d.name)
  })
  return renderMonerodArgs([...kept, ...user])
}

/** The nettype a set of (merged) monerod options selects. */
export type NetType = 'mainnet' | 'testnet' | 'stagenet' | 'regtest'

/** Reads the nettype from user arguments; more than one is an error. */
export function detectNetType(userArgs: readonly string[]): NetType {
  const found = parseMonerodArgs(userArgs)
    .map((o) => o.name)
    .filter((n): n is 'testnet' | 'stagenet' | 'regtest' => n === 'testnet' || n === 'stagenet' || n === 'regtest')
  const unique = [...new Set(found)]
  if (unique.length > 1) {
    throw new ArgumentError(`choose one network: ${unique.map((n) => `--${n}`).join(' and ')} were both given`, 0)
  }
  return unique[0] ?? 'mainnet'
}
