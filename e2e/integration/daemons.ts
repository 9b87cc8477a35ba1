/**
 * The integration tier runs real daemons. When one is missing, a developer's run skips the
 * tests with the install command; under CI=true it is a failure, since CI installs them all.
 */
import { spawnSync } from 'node:child_process'
import t from 'tap'

/** A binary a test file needs and the Debian package that provides it. */
export interface Daemon {
  readonly bin: string
  readonly pkg: string
}

/** Whether `bin --version` runs. */
export function runs(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 })
  return r.error === undefined && r.status === 0
}

/**
 * Checks the daemons a test file needs. Returns false when all run, else the skip reason; under
 * CI=true a missing daemon also fails the file.
 */
export function requireDaemons(what: string, daemons: readonly Daemon[]): false | string {
  const absent = daemons.filter((d) => !runs(d.bin))
  if (absent.length === 0) return false
  const names = absent.map((d) => d.bin).join(', ')
  const install = `apt-get install -y ${[...new Set(absent.map((d) => d.pkg))].join(' ')}`
  if (process.env.CI === 'true') t.fail(`${names} not found but CI=true: ${what} must run (${install})`)
  return `${names} not found (${install}); set CI=true to make this a failure`
}

/** The installation secret the integration tests derive keys from (never a real one). */
export const TEST_KEY_SEED = Buffer.from('integration-test installation secret, not for production')

/** The part of a tap Test the daemon starters need. */
export interface HasTeardown {
  teardown(fn: () => unknown): void
}

/**
 * The same rule for any other precondition (root, a tool, a built root directory): `missing`
 * is the reason it is not met, or undefined. Returns false when met, else the skip reason;
 * under CI=true an unmet one also fails the file.
 */
export function requireSetup(what: string, missing: string | undefined): false | string {
  if (missing === undefined) return false
  if (process.env.CI === 'true') t.fail(`${what} must run under CI=true: ${missing}`)
  return `${missing}; set CI=true to make this a failure`
}
