/**
 * MonerodClient against a real monerod (regtest, offline, loopback): every method, mining
 * with generateblocks, RPC errors as monerod sends them, and HTTP Digest with --rpc-login.
 *
 * Needs monerod (Debian package `monero`, or $MONEROD_BIN). Without it the tests are skipped,
 * unless CI=true, where a missing daemon is a failure.
 */
import t from 'tap'
import { requireDaemons } from './daemons.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { MonerodClient, MonerodHttpError, MonerodRpcError } from '../../hooks/monerod/client.js'
import { DONATION_ADDRESS, MONEROD_BIN, startRegtestMonerod } from '../../hooks/monerod/regtest.js'

const skip = requireDaemons('the monerod integration tests', [{ bin: MONEROD_BIN, pkg: 'monero' }])

t.test('client against regtest monerod', { skip, timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'monerod-client-it-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const node = await startRegtestMonerod({ dataDir: join(dir, 'chain') })
  t.teardown(() => node.stop())
  const rpc = node.client
  t.comment(`monerod ${(await rpc.getInfo()).version} on ${node.url}`)

  const info = await rpc.getInfo()
  t.match(info, { status: 'OK', nettype: 'fakechain', offline: true, synchronized: true, height: 1, restricted: false })
  t.match(info.version, /^0\.\d+\.\d+\.\d+/)
  t.ok(info.database_size > 0 && info.free_space > 0)
  t.match(await rpc.getInfoPlain(), { status: 'OK', height: 1, nettype: 'fakechain' })
  t.match(await rpc.getHeight(), { status: 'OK', height: 1, hash: /^[0-9a-f]{64}$/ })
  t.match(await rpc.getBlockCount(), { status: 'OK', count: 1 })
  const genesis = await rpc.getBlockHeaderByHeight(0)
  t.match(genesis.block_header, { height: 0, prev_hash: '0'.repeat(64), reward: Number, hash: /^[0-9a-f]{64}$/ })
  t.same((await rpc.getLastBlockHeader()).block_header.hash, genesis.block_header.hash)
  t.match(await rpc.getConnections(), { status: 'OK' })
  t.match(await rpc.syncInfo(), { status: 'OK', height: 1 })
  const fee = await rpc.getFeeEstimate()
  t.ok(fee.fee > 0, `fee ${fee.fee}`)
  t.match(await rpc.hardForkInfo(), { status: 'OK', enabled: true, version: Number })
  t.match(await rpc.getTransactionPoolStats(), { status: 'OK', pool_stats: { txs_total: 0 } })
  t.match(await rpc.getNetStats(), { status: 'OK', total_bytes_in: Number })
  const peers = await rpc.getPeerList()
  t.equal(peers.status, 'OK')
  t.equal(peers.white_list, undefined, 'monerod omits empty lists')

  const mined = await rpc.generateBlocks({ amount_of_blocks: 5, wallet_address: DONATION_ADDRESS }, { timeoutMs: 120_000 })
  t.equal(mined.blocks?.length, 5)
  t.equal((await rpc.getHeight()).height, 6, 'height moved by 5')
  t.equal((await rpc.getInfo()).height, 6)
  const top = await rpc.getLastBlockHeader()
  t.match(top.block_header, { height: 5, hash: mined.blocks?.[4], depth: 0 })

  const beyond = await rpc.getBlockHeaderByHeight(999).catch((e: unknown) => e)
  t.type(beyond, MonerodRpcError)
  t.match(beyond, { code: -2, method: 'get_block_header_by_height', rpcMessage: /greater than current top block height/ })
  t.match(await rpc.jsonRpc('no_such_method').catch((e: unknown) => e), { code: -32601, name: 'MonerodRpcError' })
  t.match(await rpc.generateBlocks({ amount_of_blocks: 1, wallet_address: 'nope' }).catch((e: unknown) => e), {
    name: 'MonerodRpcError',
    rpcMessage: /wallet address/,
  })
})

t.test('HTTP Digest with --rpc-login', { skip, timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'monerod-digest-it-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const login = { username: 'user', password: 'p@ss:word' }
  const node = await startRegtestMonerod({ dataDir: join(dir, 'chain'), rpcLogin: login })
  t.teardown(() => node.stop())

  const authed = node.client // carries the credentials
  t.equal((await authed.getInfo()).nettype, 'fakechain')
  // several calls in a row and in parallel reuse the Digest session
  const heights = await Promise.all([authed.getHeight(), authed.getBlockCount(), authed.getInfoPlain(), authed.getLastBlockHeader()])
  t.equal(heights.length, 4)
  t.match(await authed.generateBlocks({ amount_of_blocks: 2, wallet_address: DONATION_ADDRESS }, { timeoutMs: 120_000 }), { height: 2 })

  const anonymous = new MonerodClient({ url: node.url, timeoutMs: 5000 })
  const denied = await anonymous.getHeight().catch((e: unknown) => e)
  t.type(denied, MonerodHttpError)
  t.equal((denied as MonerodHttpError).status, 401)

  const wrong = new MonerodClient({ url: node.url, timeoutMs: 5000, username: 'user', password: 'wrong' })
  t.teardown(() => wrong.close())
  t.match(await wrong.getInfo().catch((e: unknown) => e), { name: 'MonerodHttpError', status: 401 })
})
