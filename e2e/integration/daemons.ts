/**
 * The integration tier runs real daemons. When one is missing, a developer's run skips the
 * tests with the install command; under CI=true it is a failure, since CI installs them all.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
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

/** A daemon started by {@link startDaemon}: the process and everything it printed so far. */
export interface RunningDaemon {
  readonly child: ChildProcess
  output(): string
}

/**
 * Starts `bin args` with stdout and stderr collected; the test's teardown stops it (SIGTERM,
 * then SIGKILL after 5 s) unless it already exited.
 */
export function startDaemon(tt: HasTeardown, bin: string, args: readonly string[]): RunningDaemon {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  tt.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  })
  return { child, output: () => output }
}
