import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  DEFAULT_EXPORTER_PORT,
  ExporterUsageError,
  parseExporterArgs,
  parseRpcLogin,
  runExporterCommand,
} from './command.js';
import { XMRIG_SUMMARY } from './testdata.js';

process.env.LOG_LEVEL = 'silent'; // runExporterCommand's logger would interleave JSON with TAP

t.test('parses flags with defaults', async (t) => {
  t.same(parseExporterArgs(['--monerod', 'http://127.0.0.1:18081']), {
    mode: 'monerod',
    url: 'http://127.0.0.1:18081',
    port: DEFAULT_EXPORTER_PORT,
    host: '0.0.0.0',
    timeoutMs: 5000,
  });
  t.same(
    parseExporterArgs(['--xmrig=http://127.0.0.1:8080', '--token-file', '/t', '--port=9000', '--host', '127.0.0.1', '--timeout-ms', '2500']),
    { mode: 'xmrig', url: 'http://127.0.0.1:8080', port: 9000, host: '127.0.0.1', timeoutMs: 2500, tokenFile: '/t' },
  );
  t.match(parseExporterArgs(['--monerod', 'http://h:1', '--rpc-login-file', '/s']), { rpcLoginFile: '/s' });
});

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
  ];
  for (const [argv, message] of bad) t.throws(() => parseExporterArgs(argv), { name: 'ExporterUsageError', message }, argv.join(' '));
  await t.rejects(runExporterCommand([]), ExporterUsageError);
});

t.test('parses monerod --rpc-login format', async (t) => {
  t.same(parseRpcLogin('user:pa:ss\n'), { username: 'user', password: 'pa:ss' });
  t.same(parseRpcLogin('user'), { username: 'user', password: '' });
  t.throws(() => parseRpcLogin('\n'), ExporterUsageError);
});

t.test('runs, serves, reads the token file, stops on the abort signal', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exporter-cmd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'token'), 'tok\n');
  const server = http.createServer((req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer tok' ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(XMRIG_SUMMARY));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const xmrig = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ac = new AbortController();
  const sigtermListeners = process.listenerCount('SIGTERM');
  let body = '';
  const done = runExporterCommand(['--xmrig', xmrig, '--token-file', join(dir, 'token'), '--port', '0', '--host', '127.0.0.1'], {
    signal: ac.signal,
    onListening: (address) => {
      void fetch(`${address}/metrics`)
        .then((r) => r.text())
        .then((text) => {
          body = text;
          ac.abort();
        });
    },
  });
  await done;
  t.match(body, /\nxmrig_up 1\n/);
  t.match(body, /\nxmrig_shares_good_total 41\n/);
  t.equal(process.listenerCount('SIGTERM'), sigtermListeners, 'signal handlers removed');
});
