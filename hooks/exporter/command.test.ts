import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { DEFAULT_EXPORTER_PORT, ExporterUsageError, parseExporterArgs, parseRpcLogin, boundUrl, runExporterCommand } from './command.js'
import { XMRIG_SUMMARY } from './testdata.js'

process.env.LOG_LEVEL = 'silent' // runExporterCommand's logger would interleave JSON with TAP

t.test('parses flags with defaults', async (t) => {
  t.same(parseExporterArgs(['--monerod', 'http://127.0.0.1:18081']), {
    mode: 'monerod',
    url: 'http://127.0.0.1:18081',
    port: DEFAULT_EXPORTER_PORT,
    host: '0.0.0.0',
    timeoutMs: 5000,
  })
  t.same(parseExporterArgs(['--xmrig=http://127.0.0.1:8080', '--token-file', '/t', '--port=9000', '--host', '127.0.0.1', '--timeout-ms', '2500']), {
    mode: 'xmrig',
    url: 'http://127.0.0.1:8080',
    port: 9000,
    host: '127.0.0.1',
    timeoutMs: 2500,
    tokenFile: '/t',
  })
  t.match(parseExporterArgs(['--monerod', 'http://h:1', '--rpc-login-file', '/s']), { rpcLoginFile: '/s' })
})

t.test('rejects bad command lines with a usable message', async (t) => {
  const bad: [string[], RegExp][] = [
    [[], /exactly one of --monerod URL or --xmrig URL/],
    [['--monerod', 'http://a', '--xmrig', 'http://b'], /exactly one/],
    [['--monerod'], /--monerod needs a value/],
    [['--monerod', 'localhost:18081'], /must be an http\(s\) URL/],
    [['--monerod', 'http://a', '--port', '70000'], /--port must be an integer/],
    [['--monerod', 'http://a', '--timeout-ms', 'soon'], /--timeout-ms must be an integer/],
    [['--monerod', 'http://a', '--token', 'x'], /--xmrig only/],
    [['--xmrig', 'http://a', '--rpc-login-file', 'x'], /--monerod only/],
    [['--xmrig', 'http://a', '--token', 'x', '--token-file', 'y'], /not both/],
    [['--monerod', 'http://a', '--bogus', '1'], /unknown flag --bogus/],
    [['--monerod', 'http://a', 'extra'], /unexpected argument "extra"/],
    [['--port', '1', '--port', '2'], /given twice/],
    [['--help'], /usage: cli exporter/],
  ]
  for (const [argv, message] of bad) t.throws(() => parseExporterArgs(argv), { name: 'ExporterUsageError', message }, argv.join(' '))
  await t.rejects(runExporterCommand([]), ExporterUsageError)
})

t.test('parses monerod --rpc-login format', async (t) => {
  t.same(parseRpcLogin('user:pa:ss\n'), { username: 'user', password: 'pa:ss' })
  t.same(parseRpcLogin('user'), { username: 'user', password: '' })
  t.throws(() => parseRpcLogin('\n'), ExporterUsageError)
})

t.test('runs, serves, reads the token file, stops on the abort signal', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exporter-cmd-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'token'), 'tok\n')
  const server = http.createServer((req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer tok' ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(XMRIG_SUMMARY))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => server.close())
  const xmrig = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const ac = new AbortController()
  const sigtermListeners = process.listenerCount('SIGTERM')
  let body = ''
  const done = runExporterCommand(['--xmrig', xmrig, '--token-file', join(dir, 'token'), '--port', '0', '--host', '127.0.0.1'], {
    signal: ac.signal,
    onListening: (address) => {
      void fetch(`${address}/metrics`)
        .then((r) => r.text())
        .then((text) => {
          body = text
          ac.abort()
        })
    },
  })
  await done
  t.match(body, /\nxmrig_up 1\n/)
  t.match(body, /\nxmrig_shares_good_total 41\n/)
  t.equal(process.listenerCount('SIGTERM'), sigtermListeners, 'signal handlers removed')
})

t.test('logs the address it really listens on; kubelet probes only at debug level', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(XMRIG_SUMMARY))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => server.close())
  const xmrig = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const saved = process.env.LOG_LEVEL
  t.teardown(() => {
    process.env.LOG_LEVEL = saved
  })

  const run = async (level: string) => {
    process.env.LOG_LEVEL = level
    const lines: { level: number; msg: string; url?: string; req?: { url?: string } }[] = []
    const ac = new AbortController()
    let port = 0
    await runExporterCommand(['--xmrig', xmrig, '--port', '0', '--host', '0.0.0.0'], {
      signal: ac.signal,
      logStream: { write: (line) => void lines.push(JSON.parse(line)) },
      onListening: (address) => {
        port = Number(new URL(address).port)
        void (async () => {
          for (const path of ['/healthz', '/readyz', '/healthz?x=1', '/metrics']) await (await fetch(`http://127.0.0.1:${port}${path}`)).text()
          ac.abort()
        })()
      },
    })
    return { lines, port }
  }

  const info = await run('info')
  t.ok(
    info.lines.some((l) => l.msg === `exporter listening on http://0.0.0.0:${info.port}`),
    'the bound address: all IPv4 addresses',
    { found: info.lines.map((l) => l.msg) },
  )
  t.notOk(
    info.lines.some((l) => /127\.0\.0\.1/.test(l.msg) && l.msg.startsWith('exporter listening')),
    'not a loopback URL',
  )
  const probeLines = (lines: typeof info.lines) => lines.filter((l) => /^\/(healthz|readyz)/.test(l.url ?? l.req?.url ?? ''))
  t.same(probeLines(info.lines), [], 'no probe line at info level')
  t.ok(
    info.lines.some((l) => l.req?.url === '/metrics' && l.level === 30),
    '/metrics requests still logged at info',
  )

  const debug = await run('debug')
  const probes = probeLines(debug.lines)
  t.equal(probes.length, 3, 'one line per probe at debug level')
  t.ok(
    probes.every((l) => l.level === 20 && l.msg === 'probe answered'),
    'at level debug',
  )
})

t.test('boundUrl', async (t) => {
  t.equal(boundUrl({ address: '0.0.0.0', family: 'IPv4', port: 9533 }), 'http://0.0.0.0:9533')
  t.equal(boundUrl({ address: '::', family: 'IPv6', port: 9533 }), 'http://[::]:9533')
  t.equal(boundUrl({ address: '10.1.2.3', family: 'IPv4', port: 1 }), 'http://10.1.2.3:1')
})
