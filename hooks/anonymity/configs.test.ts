import t from 'tap'
import { renderI2pdConf, renderI2pdTunnelsConf, renderTorrc } from './configs.js'

/** Directive lines (comments and blanks dropped). */
const directives = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))

/** i2pd ini: `section.key` -> value; keys before any section have no prefix. */
function ini(text: string): Map<string, string> {
  const out = new Map<string, string>()
  let section = ''
  for (const line of directives(text)) {
    const header = /^\[(.+)\]$/.exec(line)
    if (header) {
      section = `${header[1] ?? ''}.`
      continue
    }
    const [key, value] = line.split(' = ')
    out.set(`${section}${key ?? ''}`, value ?? '')
  }
  return out
}

t.test('torrc defaults: P2P onion service, loopback SOCKS, foreground, stdout, no ControlPort', async (t) => {
  const text = renderTorrc()
  t.ok(text.endsWith('\n'))
  t.same(directives(text), [
    'RunAsDaemon 0',
    'DataDirectory /var/lib/tor',
    'Log notice stdout',
    'SocksPort 127.0.0.1:9050',
    'HiddenServiceDir /var/lib/tor/hidden_service',
    'HiddenServiceVersion 3',
    'HiddenServicePort 18084 127.0.0.1:18084',
  ])
  t.notMatch(text, /ControlPort/)
  t.notMatch(text, /DisableNetwork/)
})

t.test('torrc with restricted RPC, limits, custom paths', async (t) => {
  const lines = directives(
    renderTorrc({
      dataDirectory: '/data/tor',
      hiddenServiceDir: '/data/tor/hs',
      socksPort: 19050,
      publishRestrictedRpc: true,
      restrictedRpcPort: 38089,
      maxStreamsPerCircuit: 16,
      closeCircuitOnMaxStreams: true,
      disableNetwork: true,
    }),
  )
  t.ok(lines.includes('DataDirectory /data/tor'))
  t.ok(lines.includes('SocksPort 127.0.0.1:19050'))
  t.ok(lines.includes('DisableNetwork 1'))
  t.ok(lines.includes('HiddenServiceDir /data/tor/hs'))
  t.ok(lines.includes('HiddenServicePort 18084 127.0.0.1:18084'))
  t.ok(lines.includes('HiddenServicePort 38089 127.0.0.1:38089'))
  t.ok(lines.includes('HiddenServiceMaxStreams 16'))
  t.ok(lines.includes('HiddenServiceMaxStreamsCloseCircuit 1'))
})

t.test('torrc without published ports has no onion service', async (t) => {
  const text = renderTorrc({ publishP2p: false })
  t.notMatch(text, /HiddenService/)
  t.match(text, /SocksPort 127\.0\.0\.1:9050/)
  t.same(
    directives(renderTorrc({ publishP2p: false, publishRestrictedRpc: true })).filter((l) => l.startsWith('HiddenServicePort')),
    ['HiddenServicePort 18089 127.0.0.1:18089'],
  )
})

t.test('torrc input errors', async (t) => {
  t.throws(() => renderTorrc({ socksPort: 0 }), /socksPort must be an integer port in 1\.\.65535, got 0/)
  t.throws(() => renderTorrc({ p2pPort: 70000 }), /p2pPort must be an integer port/)
  t.throws(() => renderTorrc({ publishRestrictedRpc: true, restrictedRpcPort: 18084 }), /p2pPort and restrictedRpcPort must differ/)
  t.throws(() => renderTorrc({ hiddenServiceDir: 'relative' }), /hiddenServiceDir must be an absolute path/)
  t.throws(() => renderTorrc({ dataDirectory: '/x\nControlPort 9051' }), /dataDirectory must be non-empty, without newlines/)
  t.throws(() => renderTorrc({ maxStreamsPerCircuit: 0 }), /maxStreamsPerCircuit must be a positive integer/)
})

t.test('i2pd.conf defaults: everything on loopback, only SOCKS and the console enabled', async (t) => {
  const conf = ini(renderI2pdConf())
  const want: [string, string][] = [
    ['datadir', '/var/lib/i2pd'],
    ['tunconf', '/var/lib/i2pd/tunnels.conf'],
    ['log', 'stdout'],
    ['loglevel', 'warn'],
    ['daemon', 'false'],
    ['limits.transittunnels', '500'],
    ['ntcp2.published', 'false'],
    ['ssu2.published', 'false'],
    ['http.enabled', 'true'],
    ['http.address', '127.0.0.1'],
    ['http.port', '7070'],
    ['httpproxy.enabled', 'false'],
    ['socksproxy.enabled', 'true'],
    ['socksproxy.address', '127.0.0.1'],
    ['socksproxy.port', '4447'],
    ['sam.enabled', 'false'],
    ['bob.enabled', 'false'],
    ['i2cp.enabled', 'false'],
    ['i2pcontrol.enabled', 'false'],
    ['upnp.enabled', 'false'],
    ['reseed.verify', 'true'],
  ]
  for (const [key, value] of want) t.equal(conf.get(key), value, key)
  for (const [key, value] of conf) if (key.endsWith('.address')) t.equal(value, '127.0.0.1', `${key} on loopback`)
  t.notOk(conf.has('bandwidth'))
  t.notOk(conf.has('port'))
})

t.test('i2pd.conf options and errors', async (t) => {
  const conf = ini(
    renderI2pdConf({
      dataDir: '/data/i2pd',
      socksPort: 14447,
      httpConsolePort: 17070,
      logLevel: 'info',
      transitTunnels: 50,
      bandwidth: 'L',
      sharePercent: 20,
      publishRouterAddresses: true,
      routerPort: 24567,
    }),
  )
  t.equal(conf.get('tunconf'), '/data/i2pd/tunnels.conf')
  t.equal(conf.get('socksproxy.port'), '14447')
  t.equal(conf.get('http.port'), '17070')
  t.equal(conf.get('loglevel'), 'info')
  t.equal(conf.get('limits.transittunnels'), '50')
  t.equal(conf.get('bandwidth'), 'L')
  t.equal(conf.get('share'), '20')
  t.equal(conf.get('ntcp2.published'), 'true')
  t.equal(conf.get('port'), '24567')
  t.throws(() => renderI2pdConf({ bandwidth: 'Q' }), /bandwidth must be L, O, P, X or a positive integer/)
  t.throws(() => renderI2pdConf({ sharePercent: 101 }), /sharePercent must be an integer in 0\.\.100/)
  t.throws(() => renderI2pdConf({ socksPort: 7070 }), /socksPort and httpConsolePort must differ/)
  t.throws(() => renderI2pdConf({ transitTunnels: -1 }), /transitTunnels must be a positive integer/)
  t.throws(() => renderI2pdConf({ dataDir: 'data' }), /dataDir must be an absolute path/)
})

t.test('tunnels.conf: P2P by default, restricted RPC on request, own keys each', async (t) => {
  t.same(directives(renderI2pdTunnelsConf()), ['[monerod]', 'type = server', 'host = 127.0.0.1', 'port = 18085', 'inport = 0', 'keys = monerod.dat'])
  const both = ini(renderI2pdTunnelsConf({ publishRestrictedRpc: true }))
  t.equal(both.get('monerod.keys'), 'monerod.dat')
  t.equal(both.get('monerod-rpc.type'), 'server')
  t.equal(both.get('monerod-rpc.host'), '127.0.0.1')
  t.equal(both.get('monerod-rpc.port'), '18089')
  t.equal(both.get('monerod-rpc.inport'), '0')
  t.equal(both.get('monerod-rpc.keys'), 'monerod-rpc.dat')
  const rpcOnly = ini(renderI2pdTunnelsConf({ publishP2p: false, publishRestrictedRpc: true, restrictedRpcPort: 38089, restrictedRpcKeysFile: 'keys/rpc.dat' }))
  t.notOk(rpcOnly.has('monerod.type'))
  t.equal(rpcOnly.get('monerod-rpc.port'), '38089')
  t.equal(rpcOnly.get('monerod-rpc.keys'), 'keys/rpc.dat')
  t.same(directives(renderI2pdTunnelsConf({ publishP2p: false })), [])
})

t.test('tunnels.conf errors', async (t) => {
  t.throws(() => renderI2pdTunnelsConf({ p2pKeysFile: '/abs/monerod.dat' }), /p2pKeysFile must be a path relative to the i2pd datadir/)
  t.throws(() => renderI2pdTunnelsConf({ p2pKeysFile: '../monerod.dat' }), /without "\.\."/)
  t.throws(() => renderI2pdTunnelsConf({ publishRestrictedRpc: true, restrictedRpcKeysFile: 'monerod.dat' }), /need different keys files/)
  t.throws(() => renderI2pdTunnelsConf({ publishRestrictedRpc: true, restrictedRpcPort: 18085 }), /must differ/)
  t.throws(() => renderI2pdTunnelsConf({ p2pKeysFile: 'a.dat\n[evil]' }), /without newlines/)
})

t.test('renderers are pure: same input, same text', async (t) => {
  const opts = { publishRestrictedRpc: true, maxStreamsPerCircuit: 4 }
  t.equal(renderTorrc(opts), renderTorrc({ ...opts }))
  t.equal(renderI2pdConf({ transitTunnels: 9 }), renderI2pdConf({ transitTunnels: 9 }))
  t.equal(renderI2pdTunnelsConf(opts), renderI2pdTunnelsConf({ ...opts }))
})
