/**
 * Pure mapping from RPC answers to metric samples, for monerod and for xmrig.
 *
 * Nothing here performs I/O, reads the clock or touches prom-client: a scrape gathers the
 * answers (see server.ts), calls {@link collectMonerodSamples} / {@link collectXmrigSamples},
 * and writes the returned samples into gauges declared from {@link MONEROD_METRICS} /
 * {@link XMRIG_METRICS}. When the node is down only the `*_up` sample is returned, so stale
 * values are never exported.
 *
 * Units: heights are block counts as monerod reports them (`height` = top block height + 1),
 * times are Unix seconds, sizes bytes, amounts atomic units (1 XMR = 1e12 atomic units),
 * hashrates hashes per second.
 */
import type { BlockHeader, GetInfoResult, TxPoolStats } from '../monerod/types.js'

/** One value of one gauge. */
export interface Sample {
  name: string
  value: number
  labels?: Record<string, string>
}

/** Declaration of a gauge: help text and label names. */
export interface GaugeSpec {
  help: string
  labelNames?: readonly string[]
}

/** Every node gauge the monerod mode exports. */
export const MONEROD_METRICS = {
  monerod_up: { help: 'Whether the last get_info call to monerod succeeded (1) or not (0).' },
  monerod_height: { help: 'Blockchain height reported by get_info (number of blocks, i.e. top block height + 1).' },
  monerod_target_height: {
    help: 'Height the node is syncing towards; equals monerod_height when no peer is ahead (monerod itself reports 0 then).',
  },
  monerod_synchronized: { help: 'Whether monerod considers itself synchronized (1) or not (0).' },
  monerod_busy_syncing: { help: 'Whether monerod is busy adding downloaded blocks (1) or not (0).' },
  monerod_offline: { help: 'Whether monerod runs with --offline (1) or not (0).' },
  monerod_connections: {
    help: 'Open P2P connections by direction (zero on a restricted RPC port).',
    labelNames: ['direction'],
  },
  monerod_rpc_connections: { help: 'Open RPC connections reported by get_info.' },
  monerod_peerlist_size: { help: 'Entries in the white and grey peer lists.', labelNames: ['list'] },
  monerod_tx_pool_transactions: { help: 'Transactions in the memory pool.' },
  monerod_tx_pool_bytes: { help: 'Total size of the transactions in the memory pool in bytes.' },
  monerod_tx_count: { help: 'Transactions in the blockchain, coinbase excluded.' },
  monerod_difficulty: { help: 'Difficulty of the next block (low 64 bits).' },
  monerod_alt_blocks: { help: 'Alternative blocks known to the node.' },
  monerod_database_size_bytes: { help: 'Size of the blockchain database in bytes (zero on a restricted RPC port).' },
  monerod_free_space_bytes: { help: "Free space on the data directory's file system in bytes." },
  monerod_start_time_seconds: { help: 'Unix time monerod started.' },
  monerod_update_available: { help: 'Whether monerod reports that a newer release is available (1) or not (0).' },
  monerod_info: { help: 'Constant 1, labelled with the monerod version and network type.', labelNames: ['version', 'nettype'] },
  monerod_last_block_timestamp_seconds: { help: 'Timestamp of the top block (Unix seconds, set by its miner).' },
  monerod_last_block_reward_atomic: { help: 'Coinbase reward of the top block in atomic units (1 XMR = 1e12).' },
  monerod_last_block_size_bytes: { help: 'Size of the top block in bytes.' },
  monerod_last_block_weight_bytes: { help: 'Weight of the top block in bytes.' },
  monerod_last_block_transactions: { help: 'Transactions in the top block, coinbase excluded.' },
} as const satisfies Record<string, GaugeSpec>

export type MonerodMetricName = keyof typeof MONEROD_METRICS

/** What one scrape managed to learn from monerod; a missing member means that call failed. */
export interface MonerodSnapshot {
  info?: GetInfoResult
  lastBlock?: BlockHeader
  txPool?: TxPoolStats
}

const bool = (b: boolean): number => (b ? 1 : 0)

/** Maps one monerod snapshot to samples. Without `info` the node counts as down. */
export function collectMonerodSamples(snapshot: MonerodSnapshot): Sample[] {
  const { info, lastBlock, txPool } = snapshot
  if (info === undefined) return [{ name: 'monerod_up', value: 0 }]
  const out: Sample[] = [
    { name: 'monerod_up', value: 1 },
    { name: 'monerod_height', value: info.height },
    { name: 'monerod_target_height', value: Math.max(info.target_height, info.height) },
    { name: 'monerod_synchronized', value: bool(info.synchronized) },
    { name: 'monerod_busy_syncing', value: bool(info.busy_syncing) },
    { name: 'monerod_offline', value: bool(info.offline) },
    { name: 'monerod_connections', labels: { direction: 'in' }, value: info.incoming_connections_count },
    { name: 'monerod_connections', labels: { direction: 'out' }, value: info.outgoing_connections_count },
    { name: 'monerod_rpc_connections', value: info.rpc_connections_count },
    { name: 'monerod_peerlist_size', labels: { list: 'white' }, value: info.white_peerlist_size },
    { name: 'monerod_peerlist_size', labels: { list: 'grey' }, value: info.grey_peerlist_size },
    { name: 'monerod_tx_pool_transactions', value: info.tx_pool_size },
    { name: 'monerod_tx_count', value: info.tx_count },
    { name: 'monerod_difficulty', value: info.difficulty },
    { name: 'monerod_alt_blocks', value: info.alt_blocks_count },
    { name: 'monerod_database_size_bytes', value: info.database_size },
    { name: 'monerod_free_space_bytes', value: info.free_space },
    { name: 'monerod_start_time_seconds', value: info.start_time },
    { name: 'monerod_update_available', value: bool(info.update_available) },
    { name: 'monerod_info', labels: { version: info.version, nettype: info.nettype }, value: 1 },
  ]
  if (txPool !== undefined) out.push({ name: 'monerod_tx_pool_bytes', value: txPool.bytes_total })
  if (lastBlock !== undefined) {
    out.push(
      { name: 'monerod_last_block_timestamp_seconds', value: lastBlock.timestamp },
      { name: 'monerod_last_block_reward_atomic', value: lastBlock.reward },
      { name: 'monerod_last_block_size_bytes', value: lastBlock.block_size },
      { name: 'monerod_last_block_weight_bytes', value: lastBlock.block_weight },
      { name: 'monerod_last_block_transactions', value: lastBlock.num_txes },
    )
  }
  return out
}

// ---- xmrig ------------------------------------------------------------------------------

/**
 * The parts of xmrig's `GET /2/summary` the exporter reads (xmrig 6.x). Hashrate entries are
 * `null` until xmrig has enough data for that window.
 */
export interface XmrigSummary {
  id?: string
  worker_id?: string
  uptime: number
  version: string
  algo?: string | null
  ua?: string
  paused?: boolean
  hashrate: { total: (number | null)[]; highest?: number | null }
  results: {
    diff_current?: number
    shares_good: number
    shares_total: number
    avg_time?: number
    hashes_total?: number
  }
  connection: {
    /** "host:port" of the last pool; kept after a disconnect. */
    pool: string
    /** Pool IP while connected, null otherwise. */
    ip: string | null
    /** Seconds connected, 0 when not connected. */
    uptime: number
    ping?: number
    failures?: number
    algo?: string | null
    diff?: number
    accepted?: number
    rejected?: number
  }
}

/** Every gauge/counter the xmrig mode exports. Counters are named with `_total`. */
export const XMRIG_METRICS = {
  xmrig_up: { help: 'Whether the last /2/summary call to xmrig succeeded (1) or not (0).' },
  xmrig_hashrate_hps: { help: 'Total hashrate in hashes per second over a window.', labelNames: ['window'] },
  xmrig_pool_connected: { help: 'Whether xmrig is connected to its pool (1) or not (0).' },
  xmrig_pool_info: { help: 'Constant 1, labelled with the pool xmrig uses (host:port).', labelNames: ['pool'] },
  xmrig_uptime_seconds: { help: 'Seconds since xmrig started.' },
  xmrig_pool_uptime_seconds: { help: 'Seconds the current pool connection has been up (0 when disconnected).' },
  xmrig_difficulty: { help: 'Current share difficulty.' },
  xmrig_paused: { help: 'Whether mining is paused (1) or not (0).' },
  xmrig_info: { help: 'Constant 1, labelled with the xmrig version and algorithm.', labelNames: ['version', 'algo'] },
} as const satisfies Record<string, GaugeSpec>

/** xmrig counters (monotonic within one xmrig process), exported with a `_total` suffix. */
export const XMRIG_COUNTERS = {
  xmrig_shares_good_total: { help: 'Shares accepted by the pool since xmrig started.' },
  xmrig_shares_total: { help: 'Shares submitted to the pool since xmrig started.' },
  xmrig_hashes_total: { help: 'Hashes computed since xmrig started.' },
} as const satisfies Record<string, GaugeSpec>

/** The windows of `hashrate.total`, in xmrig's order. */
export const XMRIG_HASHRATE_WINDOWS = ['10s', '60s', '15m'] as const

/** Maps one xmrig summary (or undefined when the call failed) to samples. */
export function collectXmrigSamples(summary: XmrigSummary | undefined): Sample[] {
  if (summary === undefined) return [{ name: 'xmrig_up', value: 0 }]
  const connected = typeof summary.connection.ip === 'string' && summary.connection.ip !== ''
  const algo = summary.algo ?? summary.connection.algo ?? ''
  const out: Sample[] = [
    { name: 'xmrig_up', value: 1 },
    { name: 'xmrig_pool_connected', value: bool(connected) },
    { name: 'xmrig_uptime_seconds', value: summary.uptime },
    { name: 'xmrig_pool_uptime_seconds', value: summary.connection.uptime },
    { name: 'xmrig_shares_good_total', value: summary.results.shares_good },
    { name: 'xmrig_shares_total', value: summary.results.shares_total },
    { name: 'xmrig_info', labels: { version: summary.version, algo }, value: 1 },
  ]
  XMRIG_HASHRATE_WINDOWS.forEach((window, i) => {
    const v = summary.hashrate.total[i]
    if (typeof v === 'number') out.push({ name: 'xmrig_hashrate_hps', labels: { window }, value: v })
  })
  if (summary.connection.pool !== '') {
    out.push({ name: 'xmrig_pool_info', labels: { pool: summary.connection.pool }, value: 1 })
  }
  if (summary.results.hashes_total !== undefined) {
    out.push({ name: 'xmrig_hashes_total', value: summary.results.hashes_total })
  }
  const diff = summary.connection.diff ?? summary.results.diff_current
  if (diff !== undefined) out.push({ name: 'xmrig_difficulty', value: diff })
  if (summary.paused !== undefined) out.push({ name: 'xmrig_paused', value: bool(summary.paused) })
  return out
}
