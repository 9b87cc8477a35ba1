/**
 * # monerod RPC client
 *
 * A small typed client for monerod's daemon RPC, used by the metrics exporter and by the
 * tests. It speaks both flavours monerod offers:
 *
 * - **JSON-RPC** on `/json_rpc`: {@link MonerodClient.getInfo}, `getLastBlockHeader`,
 *   `getBlockHeaderByHeight`, `getConnections`, `syncInfo`, `getFeeEstimate`,
 *   `generateBlocks` (regtest mining), `getBlockCount`, `hardForkInfo`, or any method via
 *   {@link MonerodClient.jsonRpc}.
 * - **Plain endpoints**: `getHeight` (`/get_height`), `getInfoPlain` (`/get_info`),
 *   `getTransactionPoolStats`, `getNetStats`, `getPeerList`, or any path via
 *   {@link MonerodClient.plain}.
 *
 * ```ts
 * import { MonerodClient } from './monerod/client.js';
 *
 * const rpc = new MonerodClient({ url: 'http://127.0.0.1:18081', timeoutMs: 5000 });
 * const info = await rpc.getInfo();              // GetInfoResult
 * console.log(info.height, info.synchronized);
 *
 * // with monerod --rpc-login user:pass (HTTP Digest, handled transparently)
 * const authed = new MonerodClient({ url, username: 'user', password: 'pass' });
 *
 * // regtest: mine 5 blocks to an address
 * await rpc.generateBlocks({ amount_of_blocks: 5, wallet_address: addr });
 * ```
 *
 * Behaviour:
 * - Every call is bounded by `timeoutMs` (default 10 s), including an authentication round
 *   trip; a per-call `timeoutMs` or `signal` can be passed in the last argument.
 * - Failures throw subclasses of {@link MonerodError} (see ./errors.ts): a JSON-RPC `error`
 *   object → {@link MonerodRpcError} (`code`, `rpcMessage`); `status` other than "OK"
 *   (including "BUSY") → {@link MonerodStatusError}; non-2xx → {@link MonerodHttpError};
 *   deadline → {@link MonerodTimeoutError}; refused/reset → {@link MonerodConnectionError}.
 * - Digest auth (RFC 7616/2617, MD5, qop=auth): the first request goes without credentials;
 *   on 401 with a Digest challenge it is retried once with `Authorization`, and later requests
 *   reuse the nonce with an increasing `nc`. A stale/expired nonce costs one extra round trip.
 * - Connections: without credentials every request uses a fresh TCP connection (scrapes are
 *   rare; no stale keep-alive sockets after a monerod restart). With credentials the client
 *   keeps ONE kept-alive connection, because monerod binds the Digest session to the TCP
 *   connection (a nonce from one connection is refused on another, seen on 0.18.0.0);
 *   calls are then serialised on it. Call {@link MonerodClient.close} when done.
 */
import http from 'node:http'
import https from 'node:https'

import { DigestAuth } from './digest.js'
import {
  MonerodConnectionError,
  MonerodError,
  MonerodHttpError,
  MonerodResponseError,
  MonerodRpcError,
  MonerodStatusError,
  MonerodTimeoutError,
} from './errors.js'
import type {
  BlockHeaderResult,
  FeeEstimateResult,
  GenerateBlocksParams,
  GenerateBlocksResult,
  GetBlockCountResult,
  GetConnectionsResult,
  GetHeightResult,
  GetInfoResult,
  HardForkInfoResult,
  NetStatsResult,
  PeerListResult,
  SyncInfoResult,
  TxPoolStatsResult,
} from './types.js'

export * from './errors.js'
export type * from './types.js'

/** Options of {@link MonerodClient}. */
export interface MonerodClientOptions {
  /** Base URL of the (unrestricted or restricted) RPC, e.g. "http://127.0.0.1:18081". */
  url: string
  /** Budget per call in milliseconds, authentication round trip included. Default 10000. */
  timeoutMs?: number
  /** `--rpc-login` user name; enables Digest authentication together with `password`. */
  username?: string
  /** `--rpc-login` password. */
  password?: string
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number
  /** Aborts the call early (the error is then the signal's reason). */
  signal?: AbortSignal
}

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  authenticate: string[]
  body: string
}

const DEFAULT_TIMEOUT_MS = 10_000

/** Typed client for one monerod RPC endpoint. See the module documentation for usage. */
export class MonerodClient {
  /** Base URL without a trailing slash and without credentials. */
  readonly url: string
  /** Default per-call budget in milliseconds. */
  readonly timeoutMs: number
  private readonly base: URL
  private readonly digest: DigestAuth | undefined
  private readonly agent: http.Agent | undefined
  private nextId = 1
  /** Tail of the call queue of an authenticating client (see {@link MonerodClient.exchange}). */
  private queue: Promise<void> = Promise.resolve()

  constructor(options: MonerodClientOptions) {
    const base = new URL(options.url)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`monerod URL must be http(s): ${options.url}`)
    }
    let username = options.username
    let password = options.password
    // Credentials in the URL are accepted too, but never kept in `url` (it goes into logs).
    if (username === undefined && base.username !== '') {
      username = decodeURIComponent(base.username)
      password = decodeURIComponent(base.password)
    }
    base.username = ''
    base.password = ''
    this.base = base
    this.url = base.toString().replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.digest = username !== undefined ? new DigestAuth(username, password ?? '') : undefined
    if (this.digest !== undefined) {
      // monerod (epee) keeps the Digest session per TCP connection: a nonce issued on one
      // connection is rejected on another. One kept-alive socket lets the challenge, the
      // answer and later requests (with nc counting up) share that session.
      const options = { keepAlive: true, maxSockets: 1 }
      this.agent = base.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options)
    }
  }

  /** Closes the kept-alive connection of an authenticating client (no-op otherwise). */
  close(): void {
    this.agent?.destroy()
  }

  // ---- JSON-RPC methods -------------------------------------------------------------------

  /** `get_info`: general node state (height, sync, connections, database size, …). */
  getInfo(opts?: CallOptions): Promise<GetInfoResult> {
    return this.jsonRpc<GetInfoResult>('get_info', undefined, opts)
  }

  /** `get_last_block_header`: header of the top block. */
  getLastBlockHeader(opts?: CallOptions): Promise<BlockHeaderResult> {
    return this.jsonRpc<BlockHeaderResult>('get_last_block_header', undefined, opts)
  }

  /** `get_block_header_by_height`: header of the block at `height` (0 = genesis). */
  getBlockHeaderByHeight(height: number, opts?: CallOptions): Promise<BlockHeaderResult> {
    return this.jsonRpc<BlockHeaderResult>('get_block_header_by_height', { height }, opts)
  }

  /** `get_connections`: current P2P connections (unrestricted RPC only). */
  getConnections(opts?: CallOptions): Promise<GetConnectionsResult> {
    return this.jsonRpc<GetConnectionsResult>('get_connections', undefined, opts)
  }

  /** `sync_info`: sync target, peers and block spans being downloaded. */
  syncInfo(opts?: CallOptions): Promise<SyncInfoResult> {
    return this.jsonRpc<SyncInfoResult>('sync_info', undefined, opts)
  }

  /** `get_fee_estimate`: per-byte fee estimates in atomic units. */
  getFeeEstimate(params?: { grace_blocks?: number }, opts?: CallOptions): Promise<FeeEstimateResult> {
    return this.jsonRpc<FeeEstimateResult>('get_fee_estimate', params, opts)
  }

  /**
   * `generateblocks`: mines blocks on regtest (unrestricted RPC, `--regtest` only). monerod
   * answers BUSY ({@link MonerodStatusError}) until it considers itself synchronized.
   */
  generateBlocks(params: GenerateBlocksParams, opts?: CallOptions): Promise<GenerateBlocksResult> {
    return this.jsonRpc<GenerateBlocksResult>('generateblocks', params, opts)
  }

  /** `get_block_count`: number of blocks (top height + 1). */
  getBlockCount(opts?: CallOptions): Promise<GetBlockCountResult> {
    return this.jsonRpc<GetBlockCountResult>('get_block_count', undefined, opts)
  }

  /** `hard_fork_info`: current hard-fork version and voting state. */
  hardForkInfo(opts?: CallOptions): Promise<HardForkInfoResult> {
    return this.jsonRpc<HardForkInfoResult>('hard_fork_info', undefined, opts)
  }

  // ---- plain endpoints --------------------------------------------------------------------

  /** `/get_height`: cheap liveness probe, answers before the node is synchronized. */
  getHeight(opts?: CallOptions): Promise<GetHeightResult> {
    return this.plain<GetHeightResult>('/get_height', undefined, opts)
  }

  /** `/get_info`: same content as the JSON-RPC `get_info`. */
  getInfoPlain(opts?: CallOptions): Promise<GetInfoResult> {
    return this.plain<GetInfoResult>('/get_info', undefined, opts)
  }

  /** `/get_transaction_pool_stats`: size and age statistics of the mempool. */
  getTransactionPoolStats(opts?: CallOptions): Promise<TxPoolStatsResult> {
    return this.plain<TxPoolStatsResult>('/get_transaction_pool_stats', undefined, opts)
  }

  /** `/get_net_stats`: P2P traffic totals since start (unrestricted RPC only). */
  getNetStats(opts?: CallOptions): Promise<NetStatsResult> {
    return this.plain<NetStatsResult>('/get_net_stats', undefined, opts)
  }

  /** `/get_peer_list`: white and grey peer lists (empty lists are omitted by monerod). */
  getPeerList(opts?: CallOptions): Promise<PeerListResult> {
    return this.plain<PeerListResult>('/get_peer_list', undefined, opts)
  }

  // ---- generic ----------------------------------------------------------------------------

  /**
   * Calls any JSON-RPC method. Throws {@link MonerodRpcError} on an `error` member and
   * {@link MonerodStatusError} when `result.status` is present and not "OK".
   */
  async jsonRpc<T>(method: string, params?: unknown, opts?: CallOptions): Promise<T> {
    const id = this.nextId++
    const body = JSON.stringify({ jsonrpc: '2.0', id: String(id), method, params: params ?? {} })
    const url = `${this.url}/json_rpc`
    const parsed = await this.exchange('/json_rpc', method, body, opts)
    if (!isObject(parsed)) throw new MonerodResponseError(url, method, 'not a JSON object')
    const error = parsed.error
    if (isObject(error)) {
      const code = typeof error.code === 'number' ? error.code : 0
      const message = typeof error.message === 'string' ? error.message : JSON.stringify(error)
      throw new MonerodRpcError(url, method, code, message)
    }
    const result = parsed.result
    if (!isObject(result)) throw new MonerodResponseError(url, method, 'no "result" object')
    checkStatus(url, method, result)
    return result as T
  }

  /**
   * Calls a plain (non-JSON-RPC) endpoint such as "/get_height" with a JSON body (default
   * `{}`). Throws {@link MonerodStatusError} when `status` is present and not "OK".
   */
  async plain<T>(path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    const parsed = await this.exchange(path, path, JSON.stringify(body ?? {}), opts)
    if (!isObject(parsed)) throw new MonerodResponseError(`${this.url}${path}`, path, 'not a JSON object')
    checkStatus(`${this.url}${path}`, path, parsed)
    return parsed as T
  }

  /** One logical call: POST, Digest retry if challenged, JSON parse, all within the budget. */
  private async exchange(path: string, method: string, body: string, opts?: CallOptions): Promise<unknown> {
    const url = `${this.url}${path}`
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = opts?.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
    const target = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base : `${this.base.href}/`)
    const uri = `${target.pathname}${target.search}`
    // With Digest, calls run one at a time: monerod issues a fresh nonce with every 401 and
    // forgets the previous one, so interleaved handshakes would invalidate each other, and
    // the Authorization header (nc) must be computed when the request really goes out.
    let release: () => void = () => {}
    if (this.digest !== undefined) {
      const previous = this.queue
      this.queue = new Promise<void>((r) => (release = r))
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
        void previous.then(() => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        })
      })
    }
    try {
      if (signal.aborted) throw signal.reason
      let res = await this.send(target, uri, body, signal)
      if (res.status === 401 && this.digest !== undefined && res.authenticate.length > 0) {
        // Unchallenged first request, or our nonce went stale: take the new challenge, retry once.
        if (this.digest.acceptChallenge(res.authenticate)) {
          res = await this.send(target, uri, body, signal)
        }
      }
      if (res.status < 200 || res.status > 299) {
        throw new MonerodHttpError(url, method, res.status, res.body.slice(0, 512))
      }
      try {
        return JSON.parse(res.body) as unknown
      } catch {
        throw new MonerodResponseError(url, method, `not JSON: ${res.body.slice(0, 80)}`)
      }
    } catch (err) {
      if (err instanceof MonerodError) throw err
      if (timeout.aborted) throw new MonerodTimeoutError(url, method, timeoutMs)
      if (opts?.signal?.aborted) throw opts.signal.reason ?? err
      const code = (err as NodeJS.ErrnoException | undefined)?.code
      throw new MonerodConnectionError(url, method, typeof code === 'string' ? code : undefined, err)
    } finally {
      release()
    }
  }

  private async send(target: URL, uri: string, body: string, signal: AbortSignal): Promise<RawResponse> {
    try {
      return await this.sendOnce(target, uri, body, signal)
    } catch (err) {
      // A kept-alive socket the server closed meanwhile: retry once on a new connection.
      if ((err as { reusedSocket?: boolean }).reusedSocket === true && !signal.aborted) {
        return this.sendOnce(target, uri, body, signal)
      }
      throw err
    }
  }

  private sendOnce(target: URL, uri: string, body: string, signal: AbortSignal): Promise<RawResponse> {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      accept: 'application/json',
    }
    if (this.agent === undefined) headers.connection = 'close'
    const authorization = this.digest?.authorize('POST', uri)
    if (authorization !== undefined) headers.authorization = authorization
    const lib = target.protocol === 'https:' ? https : http
    return new Promise<RawResponse>((resolve, reject) => {
      const req = lib.request(target, { method: 'POST', headers, signal, agent: this.agent ?? false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            authenticate: res.headersDistinct['www-authenticate'] ?? [],
            body: Buffer.concat(chunks).toString('utf8'),
          })
        })
      })
      req.on('error', (err: Error & { reusedSocket?: boolean }) => {
        const code = (err as NodeJS.ErrnoException).code
        if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) err.reusedSocket = true
        reject(err)
      })
      req.end(body)
    })
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkStatus(url: string, method: string, obj: Record<string, unknown>): void {
  const status = obj.status
  if (status !== undefined && status !== 'OK') throw new MonerodStatusError(url, method, String(status))
}
