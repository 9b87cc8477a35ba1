import { ArgumentError, detectNetType } from '../nodes/monerod-args.js'
import { SpecError } from '../rules.js'

/** The nettype of a set, with argument errors reported on the right field. */
export function nettypeOf(args: readonly string[] | undefined, field = 'spec.monerod.args') {
  try {
    return detectNetType(args ?? [])
  } catch (err) {
    if (err instanceof ArgumentError) throw new SpecError(`${field}[${err.index}]`, err.message)
    throw err
  }
}
