import t from 'tap'
import fc from 'fast-check'
import { type ArgumentError, detectNetType, mergeMonerodArgs, parseMonerodArgs, resolveOptionName, type ParsedOption } from './monerod-args.js'
import { MONEROD_OPTIONS, MONEROD_OPTION_NAMES } from './monerod-options.js'
import { RESERVED } from './monerod-container.js'

const o = (name: string, value?: string): ParsedOption => ({ name, value, known: true })
const DEFAULTS = [o('non-interactive'), o('out-peers', '12'), o('add-exclusive-node', 'a:1'), o('log-level', '0')]

t.test('prefixes resolve as monerod resolves them', async (t) => {
  t.equal(resolveOptionName('public'), 'public-node')
  t.equal(resolveOptionName('reg'), 'regtest')
  t.equal(resolveOptionName('out-peers'), 'out-peers')
  t.equal(resolveOptionName('testnet'), 'testnet', 'an exact name wins over longer names')
  t.equal(resolveOptionName('no-such-option'), undefined)
  t.throws(() => resolveOptionName('test'), /ambiguous.*--testnet/)
  t.throws(() => resolveOptionName('rpc'), /ambiguous/)
})

t.test('both --flag=value and --flag value parse', async (t) => {
  t.same(parseMonerodArgs(['--out-peers=8', '--in-peers', '16', '--public']), [
    { name: 'out-peers', value: '8', known: true },
    { name: 'in-peers', value: '16', known: true },
    { name: 'public-node', value: undefined, known: true },
  ])
  t.throws(() => parseMonerodArgs(['--out-peers']), /--out-peers needs a value/)
  t.throws(() => parseMonerodArgs(['--public-node=1']), /is a flag and takes no value/)
  t.throws(() => parseMonerodArgs(['regtest']), /not a long option/)
  t.throws(() => parseMonerodArgs(['--Bad_Name']), /invalid name/)
})

t.test('unknown options are kept, with a following value when one is given', async (t) => {
  t.same(parseMonerodArgs(['--future-flag', '--future-opt', 'x', '--other=1']), [
    { name: 'future-flag', value: undefined, known: false },
    { name: 'future-opt', value: 'x', known: false },
    { name: 'other', value: '1', known: false },
  ])
})

t.test('merge: user overrides defaults of the same flag, repeatables accumulate, order kept', async (t) => {
  const merged = mergeMonerodArgs(DEFAULTS, ['--out-peers', '64', '--add-exclusive-node=b:2', '--public', '--add-exclusive-node', 'c:3'])
  t.same(merged, [
    '--non-interactive',
    '--add-exclusive-node=a:1',
    '--log-level=0',
    '--out-peers=64',
    '--add-exclusive-node=b:2',
    '--public-node',
    '--add-exclusive-node=c:3',
  ])
})

t.test('merge: a prefix overrides the full default name', async (t) => {
  const merged = mergeMonerodArgs(DEFAULTS, ['--out-p=3'])
  t.notOk(merged.includes('--out-peers=12'))
  t.ok(merged.includes('--out-peers=3'))
})

t.test('merge: a non-repeatable flag twice is an error naming it and its position', async (t) => {
  const err = t.throws(() => mergeMonerodArgs(DEFAULTS, ['--in-peers=1', '--limit-rate=5', '--in-peers=2'])) as ArgumentError
  t.match(err.message, /--in-peers is given more than once/)
  t.equal(err.index, 2)
})

t.test('merge: reserved flags are rejected with their reason, in any spelling', async (t) => {
  for (const args of [['--data-dir=/x'], ['--data-dir', '/x'], ['--data=/x'], ['--rpc-bind-ip=0.0.0.0'], ['--confirm-external-bind'], ['--detach']]) {
    t.throws(() => mergeMonerodArgs(DEFAULTS, args, RESERVED), /cannot be set/, args.join(' '))
  }
  t.throws(() => mergeMonerodArgs(DEFAULTS, ['--rpc-bind-ip=0.0.0.0'], RESERVED), /127\.0\.0\.1/)
})

t.test('nettype detection', async (t) => {
  t.equal(detectNetType([]), 'mainnet')
  t.equal(detectNetType(['--regtest', '--fixed-difficulty=1']), 'regtest')
  t.equal(detectNetType(['--stagenet']), 'stagenet')
  t.equal(detectNetType(['--reg']), 'regtest')
  t.throws(() => detectNetType(['--testnet', '--stagenet']), /choose one network/)
})

// Arbitrary well-formed user args over monerod's real option table. The value arbitrary is
// built once: building it inside chain() costs tens of milliseconds per sample.
const optionValue = fc.stringMatching(/^[a-z0-9.:]{1,12}$/)
const userOption = fc.constantFrom(...MONEROD_OPTION_NAMES.filter((n) => !RESERVED.some((r) => r.name === n))).chain((name) => {
  const opt = MONEROD_OPTIONS.get(name)!
  return opt.value
    ? fc.tuple(fc.constant(name), optionValue, fc.boolean()).map(([n, v, split]) => (split ? [`--${n}`, v] : [`--${n}=${v}`]))
    : fc.constant([`--${name}`])
}) as fc.Arbitrary<string[]>
const userArgs = fc.array(userOption, { maxLength: 12 }).map((groups) => {
  // drop duplicate non-repeatables: they are an error by design, tested above
  const seen = new Set<string>()
  return groups
    .filter((g) => {
      const name = (g[0] as string).slice(2).split('=')[0] as string
      if (MONEROD_OPTIONS.get(name)?.repeatable) return true
      if (seen.has(name)) return false
      seen.add(name)
      return true
    })
    .flat()
})

t.test('property: every user option survives the merge, once, in the written order', async (t) => {
  fc.assert(
    fc.property(userArgs, (args) => {
      const merged = mergeMonerodArgs(DEFAULTS, args, RESERVED)
      const user = parseMonerodArgs(args).map((p) => (p.value === undefined ? `--${p.name}` : `--${p.name}=${p.value}`))
      // user options are the tail, in order
      if (JSON.stringify(merged.slice(merged.length - user.length)) !== JSON.stringify(user)) return false
      // a default survives iff it is repeatable or the user did not set it
      for (const d of DEFAULTS) {
        const userSet = parseMonerodArgs(args).some((p) => p.name === d.name)
        const rendered = d.value === undefined ? `--${d.name}` : `--${d.name}=${d.value}`
        const kept = merged.slice(0, merged.length - user.length).includes(rendered)
        if (kept !== (!userSet || MONEROD_OPTIONS.get(d.name)!.repeatable)) return false
      }
      return true
    }),
    { numRuns: 500 },
  )
  t.pass('500 generated argument lists')
})

t.test('property: merging is deterministic and idempotent on canonical output', async (t) => {
  fc.assert(
    fc.property(userArgs, (args) => {
      const a = mergeMonerodArgs(DEFAULTS, args, RESERVED)
      const b = mergeMonerodArgs(DEFAULTS, args, RESERVED)
      const again = mergeMonerodArgs(DEFAULTS, mergeMonerodArgs([], args, RESERVED), RESERVED)
      return JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(again) === JSON.stringify(a)
    }),
    { numRuns: 300 },
  )
  t.pass()
})
