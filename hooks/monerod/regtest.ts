/**
 * Test harness: starts a real monerod in regtest mode on loopback with free ports and a
 * private data directory, and waits until its RPC answers. Used by the integration tests
 * (e2e/integration) of the client and the exporter; not used in production code.
 *
 * ```ts
 * const node = await startRegtestMonerod({ dataDir });          // fresh chain
 * await node.client.generateBlocks({ amount_of_blocks: 5, wallet_address: DONATION_ADDRESS });
 * await node.stop();                                             // SIGTERM, then SIGKILL
 * const again = await startRegtestMonerod({ dataDir, rpcPort: node.rpcPort, keepFakechain: true });
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

import { MonerodClient } from './client.js'

/** The Monero project's donation address; valid on regtest (mainnet prefixes). */
export const DONATION_ADDRESS = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A'

/** monerod binary: `$MONEROD_BIN` or `monerod` on PATH. */
export const MONEROD_BIN = process.env.MONEROD_BIN ?? 'monerod'

/** Version line of the monerod binary, or undefined when it cannot be run. */
export function monerodVersion(bin = MONEROD_BIN): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 })
  if (r.error !== undefined || r.status !== 0) return undefined
  return r.stdout.trim()
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface RegtestOptions {
  dataDir: string
  /** Fixed ports (e.g. to restart on the same URL); free ones are picked otherwise. */
  rpcPort?: number
  p2pPort?: number
  /** Keep the existing chain in dataDir (regtest wipes it at start otherwise). */
  keepFakechain?: boolean
  /** `--rpc-login user:pass`. */
  rpcLogin?: { username: string; password: string }
  /** How long to wait for the RPC to answer. Default 60 s. */
  startTimeoutMs?: number
  extraArgs?: string[]
}

export interface RegtestMonerod {
  url: string
  rpcPort: number
  p2pPort: number
  dataDir: string
  args: string[]
  child: ChildProcess
  /** A client for the node (with the credentials when rpcLogin was given). */
  client: MonerodClient
  /** monerod's stdout and stderr so far (for failure messages). */
  output(): string
  /** SIGTERM, wait up to `graceMs` (default 20 s), then SIGKILL. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

/** Starts monerod --regtest --offline --fixed-difficulty 1 and waits for /get_height. */
export async function startRegtestMonerod(opts: RegtestOptions): Promise<RegtestMonerod> {
  const rpcPort = opts.rpcPort ?? (await freePort())
  const p2pPort = opts.p2pPort ?? (await freePort())
  const args = [
    '--regtest',
    '--offline',
    '--fixed-difficulty',
    '1',
    '--non-interactive',
    '--data-dir',
    opts.dataDir,
    '--p2p-bind-ip',
    '127.0.0.1',
    '--p2p-bind-port',
    String(p2pPort),
    '--rpc-bind-ip',
    '127.0.0.1',
    '--rpc-bind-port',
    String(rpcPort),
    '--no-zmq',
    '--no-igd',
    '--log-level',
    '0',
    ...(opts.keepFakechain === true ? ['--keep-fakechain'] : []),
    ...(opts.rpcLogin !== undefined ? ['--rpc-login', `${opts.rpcLogin.username}:${opts.rpcLogin.password}`] : []),
    ...(opts.extraArgs ?? []),
  ]
  const child = spawn(MONEROD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const append = (c: Buffer): void => {
    out = (out + c.toString()).slice(-20_000)
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exit.then(() => (exited = true))

  const url = `http://127.0.0.1:${rpcPort}`
  const client = new MonerodClient({ url, timeoutMs: 5000, ...opts.rpcLogin })
  const stop = async (graceMs = 20_000): Promise<void> => {
    client.close()
    if (exited) return
    child.kill('SIGTERM')
    const killed = await Promise.race([exit.then(() => true), sleep(graceMs).then(() => false)])
    if (!killed) {
      child.kill('SIGKILL')
      await exit
    }
  }
  const node: RegtestMonerod = { url, rpcPort, p2pPort, dataDir: opts.dataDir, args, child, client, output: () => out, stop }

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000)
  for (;;) {
    if (exited) throw new Error(`monerod exited during start-up (${args.join(' ')}):\n${out}`)
    try {
      await client.getHeight({ timeoutMs: 2000 })
      return node
    } catch (err) {
      if (Date.now() > deadline) {
        await stop(5000)
        throw new Error(`monerod RPC did not answer within the start budget: ${(err as Error).message}\n${out}`)
      }
    }
    await sleep(250)
  }
}
