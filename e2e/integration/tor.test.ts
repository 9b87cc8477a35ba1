/**
 * The real tor agrees with hooks/anonymity: it accepts the rendered torrc, and started
 * offline (DisableNetwork 1) on the key files we derive it writes the onion address we
 * computed. Our parser also reads a key tor generated itself.
 *
 * Needs /usr/sbin/tor (Debian package `tor`). Without it the tests are skipped, unless
 * CI=true, where a missing daemon is a failure.
 */
import t from 'tap'
import { type HasTeardown, requireDaemons, type RunningDaemon, startDaemon, TEST_KEY_SEED } from './daemons.js'
import { freePort } from '../../hooks/monerod/regtest.js'
import { spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { renderTorrc } from '../../hooks/anonymity/configs.js'
import { anonymityScope, deriveSeed, Purpose } from '../../hooks/anonymity/derive.js'
import {
  buildTorKeyFiles,
  parseTorSecretKeyFile,
  TOR_HOSTNAME_FILE,
  TOR_PUBLIC_KEY_FILE,
  TOR_SECRET_KEY_FILE,
  type TorKeyFiles,
} from '../../hooks/anonymity/tor-keys.js'

const TOR = process.env.TOR_BIN ?? 'tor'
const skip = requireDaemons('the tor integration tests', [{ bin: TOR, pkg: 'tor' }])
const SECRET = TEST_KEY_SEED

type RunningTor = RunningDaemon

/** Start tor on a torrc; the caller's teardown kills it. */
function startTor(tt: HasTeardown, torrcPath: string): RunningTor {
  return startDaemon(tt, TOR, ['-f', torrcPath])
}

async function waitForFile(path: string, tor: RunningTor, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '')
    if (text.length > 0) return text
    if (tor.child.exitCode !== null) throw new Error(`tor exited with ${tor.child.exitCode} before writing ${path}:\n${tor.output()}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}; tor said:\n${tor.output()}`)
    await sleep(200)
  }
}

/** Lay out a HiddenServiceDir as the pod's init step would: dir 0700, files 0600, our user. */
async function layOutHiddenServiceDir(dir: string, files: Partial<Omit<TorKeyFiles, 'hostname'>> = {}): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  if (files.secretKeyFile) await writeFile(join(dir, TOR_SECRET_KEY_FILE), files.secretKeyFile, { mode: 0o600 })
  if (files.publicKeyFile) await writeFile(join(dir, TOR_PUBLIC_KEY_FILE), files.publicKeyFile, { mode: 0o600 })
}

async function workDir(tt: HasTeardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'monero-operator-tor-'))
  await chmod(dir, 0o700)
  tt.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('tor --verify-config accepts the rendered torrc', { skip }, async (t) => {
  const dir = await workDir(t)
  const variants = {
    defaults: {},
    everything: { publishRestrictedRpc: true, maxStreamsPerCircuit: 32, closeCircuitOnMaxStreams: true },
    'no onion service': { publishP2p: false },
  }
  for (const [name, opts] of Object.entries(variants)) {
    const base = join(dir, name.replace(/ /g, '-'))
    await layOutHiddenServiceDir(join(base, 'hs'))
    const torrc = join(base, 'torrc')
    await writeFile(torrc, renderTorrc({ ...opts, dataDirectory: join(base, 'data'), hiddenServiceDir: join(base, 'hs'), socksPort: await freePort() }))
    const result = spawnSync(TOR, ['--verify-config', '-f', torrc], { encoding: 'utf8', timeout: 60_000 })
    if (result.status !== 0) t.comment(`${result.stdout}${result.stderr}`)
    t.equal(result.status, 0, `${name}: exit status 0`)
    t.match(result.stdout, /Configuration was valid/, name)
  }
})

t.test('tor writes the onion address we derived, for three scopes', { skip }, async (t) => {
  const dir = await workDir(t)
  const scopes = [0, 1, 2].map((replica) => anonymityScope({ network: 'tor', namespace: 'default', name: 'mainnet', replica, rotation: 0 }))
  const results = await Promise.all(
    scopes.map(async (scope, i) => {
      const base = join(dir, `replica-${i}`)
      const hsDir = join(base, 'hidden_service')
      const files = buildTorKeyFiles(deriveSeed(SECRET, scope, Purpose.torOnionService, 32))
      await layOutHiddenServiceDir(hsDir, files)
      const torrc = join(base, 'torrc')
      await writeFile(
        torrc,
        renderTorrc({
          dataDirectory: join(base, 'data'),
          hiddenServiceDir: hsDir,
          socksPort: await freePort(),
          publishRestrictedRpc: true,
          disableNetwork: true,
        }),
      )
      const tor = startTor(t, torrc)
      const hostname = await waitForFile(join(hsDir, TOR_HOSTNAME_FILE), tor)
      return { scope, files, hsDir, hostname }
    }),
  )
  for (const { scope, files, hsDir, hostname } of results) {
    t.equal(hostname, files.hostname, `${scope}: tor's hostname file equals ours`)
    t.same(await readFile(join(hsDir, TOR_SECRET_KEY_FILE)), files.secretKeyFile, `${scope}: secret key left as we wrote it`)
    t.same(await readFile(join(hsDir, TOR_PUBLIC_KEY_FILE)), files.publicKeyFile, `${scope}: public key left as we wrote it`)
    t.equal((await stat(join(hsDir, TOR_HOSTNAME_FILE))).mode & 0o777, 0o600, `${scope}: tor accepted the 0700/0600 layout`)
  }
  t.equal(new Set(results.map((r) => r.hostname)).size, 3, 'three scopes, three different addresses')
})

t.test('tor confirms the vector pinned in hooks/anonymity/tor-keys.test.ts', { skip }, async (t) => {
  const dir = await workDir(t)
  const hsDir = join(dir, 'hidden_service')
  const files = buildTorKeyFiles(deriveSeed(Buffer.alloc(32, 7), 'tor/default/x/0/0', Purpose.torOnionService, 32))
  await layOutHiddenServiceDir(hsDir, { secretKeyFile: files.secretKeyFile })
  const torrc = join(dir, 'torrc')
  await writeFile(torrc, renderTorrc({ dataDirectory: join(dir, 'data'), hiddenServiceDir: hsDir, socksPort: await freePort(), disableNetwork: true }))
  const hostname = await waitForFile(join(hsDir, TOR_HOSTNAME_FILE), startTor(t, torrc))
  t.equal(hostname, 'ckfh6vbz7qhgfvdw2gqcyuahxtaoscfrrzwirjor4khv5jvlytzzlgid.onion\n', 'from the secret key alone')
  t.same(await readFile(join(hsDir, TOR_PUBLIC_KEY_FILE)), files.publicKeyFile, 'tor wrote the public key file we build')
})

t.test('parseTorSecretKeyFile reads a key tor generated itself', { skip }, async (t) => {
  const dir = await workDir(t)
  const hsDir = join(dir, 'hidden_service')
  await layOutHiddenServiceDir(hsDir)
  const torrc = join(dir, 'torrc')
  await writeFile(torrc, renderTorrc({ dataDirectory: join(dir, 'data'), hiddenServiceDir: hsDir, socksPort: await freePort(), disableNetwork: true }))
  const tor = startTor(t, torrc)
  const hostname = await waitForFile(join(hsDir, TOR_HOSTNAME_FILE), tor)
  const parsed = parseTorSecretKeyFile(await readFile(join(hsDir, TOR_SECRET_KEY_FILE)))
  t.equal(`${parsed.onion}\n`, hostname)
  t.same(parsed.publicKey, (await readFile(join(hsDir, TOR_PUBLIC_KEY_FILE))).subarray(32))
})
