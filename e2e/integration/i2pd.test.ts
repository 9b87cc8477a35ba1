/**
 * The real i2pd agrees with hooks/anonymity: started on the rendered i2pd.conf and
 * tunnels.conf with keys files we built, it loads them unchanged and its web console shows
 * the b32 addresses we computed. Our parser also reads keys files i2pd generated itself.
 *
 * Needs /usr/sbin/i2pd (Debian package `i2pd`). Without it the tests are skipped, unless
 * CI=true, where a missing daemon is a failure. No network is used: reseeding is pointed at
 * a closed loopback port.
 */
import t from 'tap'
import { type HasTeardown, requireDaemons, type RunningDaemon, startDaemon, TEST_KEY_SEED } from './daemons.js'
import { freePort } from '../../hooks/monerod/regtest.js'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  I2PD_P2P_KEYS_FILE,
  I2PD_P2P_TUNNEL,
  I2PD_RPC_KEYS_FILE,
  I2PD_RPC_TUNNEL,
  renderI2pdConf,
  renderI2pdTunnelsConf,
} from '../../hooks/anonymity/configs.js'
import { anonymityScope, deriveSeed, Purpose } from '../../hooks/anonymity/derive.js'
import { buildI2pKeysFile, CryptoKeyType, parseI2pKeysFile, SigningKeyType } from '../../hooks/anonymity/i2p-keys.js'

const I2PD = process.env.I2PD_BIN ?? 'i2pd'
const skip = requireDaemons('the i2pd integration tests', [{ bin: I2PD, pkg: 'i2pd' }])
const SECRET = TEST_KEY_SEED

type RunningI2pd = RunningDaemon

/** Start i2pd as the current user; the caller's teardown kills it (SIGTERM, then SIGKILL). */
function startI2pd(tt: HasTeardown, dataDir: string, confPath: string): RunningI2pd {
  const args = [
    `--datadir=${dataDir}`, // i2pd reads datadir from the command line only
    `--conf=${confPath}`,
    '--reseed.urls=https://127.0.0.1:9/', // never reach out to the real reseed servers
    '--addressbook.enabled=false',
  ]
  return startDaemon(tt, I2PD, args)
}

/**
 * GET a web console page. Not fetch(): undici sends a lowercase `host` header, which
 * i2pd 2.45's strict header check does not find ("host mismatch").
 */
function getConsolePage(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}` } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(body))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.setTimeout(5000, () => request.destroy(new Error('console request timed out')))
  })
}

/** The interesting part of i2pd's log (tunnel-building noise dropped), for failure messages. */
function logTail(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/Tunnels?:/.test(line))
    .join('\n')
    .slice(-4000)
}

/** Server tunnel name -> b32 address, read from the web console's tunnels page. */
async function serverTunnels(httpPort: number, i2pd: RunningI2pd, want: number, timeoutMs = 60_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    if (i2pd.child.exitCode !== null) throw new Error(`i2pd exited with ${i2pd.child.exitCode}:\n${logTail(i2pd.output())}`)
    try {
      last = await getConsolePage(httpPort, '/?page=i2p_tunnels')
      const section = last.split('Server Tunnels')[1] ?? ''
      const tunnels = new Map<string, string>()
      for (const m of section.matchAll(/href="\/\?page=local_destination&(?:amp;)?b32=([a-z2-7]{52})">([^<]+)<\/a>/g)) {
        tunnels.set(m[2] ?? '', `${m[1] ?? ''}.b32.i2p`)
      }
      if (tunnels.size >= want) return tunnels
    } catch {
      // console not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${want} server tunnels; last page:\n${last.slice(-2000)}\ni2pd said:\n${logTail(i2pd.output())}`)
    await sleep(250)
  }
}

t.test('i2pd loads our keys files and publishes the b32 addresses we computed', { skip }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'monero-operator-i2pd-'))
  await chmod(dataDir, 0o700)
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))

  const replica0 = anonymityScope({ network: 'i2p', namespace: 'default', name: 'mainnet', replica: 0, rotation: 0 })
  const replica1 = anonymityScope({ network: 'i2p', namespace: 'default', name: 'mainnet', replica: 1, rotation: 0 })
  const p2p = buildI2pKeysFile(deriveSeed(SECRET, replica0, Purpose.i2pP2p, 32))
  const rpc = buildI2pKeysFile(deriveSeed(SECRET, replica0, Purpose.i2pRestrictedRpc, 32))
  const other = buildI2pKeysFile(deriveSeed(SECRET, replica1, Purpose.i2pP2p, 32))
  // The vector pinned in hooks/anonymity/i2p-keys.test.ts.
  const pinned = buildI2pKeysFile(deriveSeed(Buffer.alloc(32, 7), 'i2p/default/x/0/0', Purpose.i2pP2p, 32))
  t.equal(pinned.b32, 'ypqbc7ezv2ykar6357s5ax4ppobh52oqhut6v4qf5ikdeopk7m3a.b32.i2p')
  const ours = new Map([
    [I2PD_P2P_KEYS_FILE, p2p],
    [I2PD_RPC_KEYS_FILE, rpc],
    ['replica1.dat', other],
    ['pinned.dat', pinned],
  ])
  for (const [file, built] of ours) await writeFile(join(dataDir, file), built.keysFile, { mode: 0o600 })

  const httpPort = await freePort()
  const confPath = join(dataDir, 'i2pd.conf')
  await writeFile(confPath, renderI2pdConf({ dataDir, socksPort: await freePort(), httpConsolePort: httpPort, routerPort: await freePort(), logLevel: 'info' }))
  const extra = (name: string, keys: string, port: number, more: string[] = []): string =>
    `\n[${name}]\ntype = server\nhost = 127.0.0.1\nport = ${port}\ninport = 0\nkeys = ${keys}\n${more.map((l) => `${l}\n`).join('')}`
  await writeFile(
    join(dataDir, 'tunnels.conf'),
    renderI2pdTunnelsConf({ publishRestrictedRpc: true }) +
      extra('replica1', 'replica1.dat', 18086) +
      extra('pinned', 'pinned.dat', 18087) +
      // No file: i2pd generates keys with its server-tunnel defaults, then with ECIES-X25519.
      extra('generated', 'generated.dat', 18088) +
      extra('generated-x25519', 'generated-x25519.dat', 18090, ['cryptotype = 4']),
  )

  const i2pd = startI2pd(t, dataDir, confPath)
  const tunnels = await serverTunnels(httpPort, i2pd, 6)

  t.equal(tunnels.get(I2PD_P2P_TUNNEL), p2p.b32, 'P2P tunnel shows our b32')
  t.equal(tunnels.get(I2PD_RPC_TUNNEL), rpc.b32, 'restricted RPC tunnel shows our b32')
  t.equal(tunnels.get('replica1'), other.b32, 'another scope, its own b32')
  t.equal(tunnels.get('pinned'), pinned.b32, 'the pinned vector')
  t.equal(new Set([p2p.b32, rpc.b32, other.b32]).size, 3, 'scopes and purposes give different addresses')
  for (const [file, built] of ours) {
    t.same(await readFile(join(dataDir, file)), built.keysFile, `${file} was not rewritten`)
    t.match(i2pd.output(), `Local address ${built.b32} loaded`, `${file}: i2pd logged it as loaded`)
  }

  // i2pd checks the EdDSA private key against the identity when it loads the file.
  t.notMatch(i2pd.output(), /public key mismatch/i, 'i2pd accepted our EdDSA key pairs')

  const generated = parseI2pKeysFile(await readFile(join(dataDir, 'generated.dat')))
  t.equal(generated.b32, tunnels.get('generated'), 'parser reads a file i2pd generated (defaults)')
  t.equal(generated.signingKeyType, SigningKeyType.eddsaSha512Ed25519, 'i2pd 2.45 default signing type is EdDSA (7), as we build')
  t.equal(generated.cryptoKeyType, CryptoKeyType.elGamal, 'i2pd 2.45 default crypto type is ElGamal (0), as we build')
  const x25519 = parseI2pKeysFile(await readFile(join(dataDir, 'generated-x25519.dat')))
  t.equal(x25519.b32, tunnels.get('generated-x25519'), 'parser reads an i2pd ECIES-X25519 keys file')
  t.equal(x25519.cryptoKeyType, CryptoKeyType.eciesX25519)
})
