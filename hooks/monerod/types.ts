/**
 * Response shapes of the monerod RPC methods the client speaks, as monerod 0.18 serialises
 * them (checked against a live 0.18.0.0 regtest node and against
 * `src/rpc/core_rpc_server_commands_defs.h` / `src/cryptonote_protocol/cryptonote_protocol_defs.h`).
 *
 * Notes that matter to callers:
 * - Every 64-bit integer arrives as a JSON number. Values above 2^53 (cumulative difficulty on
 *   mainnet) lose precision; monerod also sends `wide_*` hex strings for those, which are exact.
 * - Empty `std::vector` fields are *omitted* by epee's serialiser (e.g. `get_peer_list` on a
 *   node with no peers has neither `white_list` nor `gray_list`), so list fields are optional.
 * - On the restricted RPC port several `get_info` fields are zeroed (connection counts, peer
 *   list sizes, database size...).
 */

/** Fields present in (almost) every monerod RPC response. */
export interface MonerodStatus {
  /** "OK" on success; "BUSY" while syncing for some methods; otherwise an error text. */
  status: string
  /** true when the answer came through a bootstrap daemon. */
  untrusted: boolean
}

/** Fields added by the RPC payment system (always 0 / "" when payments are off). */
export interface MonerodAccessFields extends MonerodStatus {
  credits: number
  top_hash: string
}

/** `get_info` (JSON-RPC method and plain `/get_info`). */
export interface GetInfoResult extends MonerodAccessFields {
  adjusted_time: number
  alt_blocks_count: number
  block_size_limit: number
  block_size_median: number
  block_weight_limit: number
  block_weight_median: number
  bootstrap_daemon_address: string
  busy_syncing: boolean
  cumulative_difficulty: number
  cumulative_difficulty_top64: number
  /** Size of the LMDB database in bytes (0 on the restricted port). */
  database_size: number
  difficulty: number
  difficulty_top64: number
  /** Free space on the data directory's file system in bytes. */
  free_space: number
  grey_peerlist_size: number
  /** Number of blocks in the chain (top block height + 1). */
  height: number
  height_without_bootstrap: number
  incoming_connections_count: number
  mainnet: boolean
  /** "mainnet", "testnet", "stagenet" or "fakechain" (regtest). */
  nettype: string
  offline: boolean
  outgoing_connections_count: number
  restricted: boolean
  rpc_connections_count: number
  stagenet: boolean
  /** Unix time the daemon started. */
  start_time: number
  synchronized: boolean
  /** Target block time in seconds (120). */
  target: number
  /** Height the node is syncing to; 0 when it has no better peer (e.g. when synchronized). */
  target_height: number
  testnet: boolean
  top_block_hash: string
  tx_count: number
  tx_pool_size: number
  update_available: boolean
  /** e.g. "0.18.0.0-unknown". */
  version: string
  was_bootstrap_ever_used: boolean
  white_peerlist_size: number
  wide_cumulative_difficulty: string
  wide_difficulty: string
}

/** A block header as in `get_last_block_header` / `get_block_header_by_height`. */
export interface BlockHeader {
  block_size: number
  block_weight: number
  cumulative_difficulty: number
  cumulative_difficulty_top64: number
  depth: number
  difficulty: number
  difficulty_top64: number
  hash: string
  height: number
  long_term_weight: number
  major_version: number
  miner_tx_hash: string
  minor_version: number
  nonce: number
  num_txes: number
  orphan_status: boolean
  pow_hash: string
  prev_hash: string
  /** Coinbase reward in atomic units (1 XMR = 1e12). */
  reward: number
  /** Unix time written by the miner. */
  timestamp: number
  wide_cumulative_difficulty: string
  wide_difficulty: string
}

export interface BlockHeaderResult extends MonerodAccessFields {
  block_header: BlockHeader
}

/** One P2P connection (`cryptonote::connection_info`). */
export interface ConnectionInfo {
  incoming: boolean
  localhost: boolean
  local_ip: boolean
  address: string
  host: string
  ip: string
  port: string
  rpc_port: number
  rpc_credits_per_hash: number
  peer_id: string
  recv_count: number
  recv_idle_time: number
  send_count: number
  send_idle_time: number
  state: string
  live_time: number
  avg_download: number
  current_download: number
  avg_upload: number
  current_upload: number
  support_flags: number
  connection_id: string
  height: number
  pruning_seed: number
  address_type: number
}

export interface GetConnectionsResult extends MonerodStatus {
  /** Omitted when there are no connections. */
  connections?: ConnectionInfo[]
}

export interface SyncInfoPeer {
  info: ConnectionInfo
}

export interface SyncInfoSpan {
  connection_id: string
  nblocks: number
  rate: number
  remote_address: string
  size: number
  speed: number
  start_block_height: number
}

export interface SyncInfoResult extends MonerodAccessFields {
  height: number
  target_height: number
  next_needed_pruning_seed: number
  /** Omitted when empty. */
  peers?: SyncInfoPeer[]
  /** Omitted when empty. */
  spans?: SyncInfoSpan[]
  overview: string
}

export interface FeeEstimateResult extends MonerodAccessFields {
  /** Base fee per byte in atomic units. */
  fee: number
  /** Per-byte fees for the four priorities (0.18+). */
  fees?: number[]
  quantization_mask: number
}

export interface GenerateBlocksParams {
  amount_of_blocks: number
  wallet_address: string
  prev_block?: string
  starting_nonce?: number
}

export interface GenerateBlocksResult extends MonerodStatus {
  /** Hashes of the new blocks; omitted when none. */
  blocks?: string[]
  /** Height of the last generated block. */
  height: number
}

export interface GetBlockCountResult extends MonerodStatus {
  /** Number of blocks (top height + 1). */
  count: number
}

export interface HardForkInfoResult extends MonerodAccessFields {
  earliest_height: number
  enabled: boolean
  state: number
  threshold: number
  version: number
  votes: number
  voting: number
  window: number
}

/** Plain `/get_height`. */
export interface GetHeightResult extends MonerodStatus {
  /** Number of blocks (top height + 1). */
  height: number
  hash: string
}

export interface TxPoolHistogramEntry {
  txs: number
  bytes: number
}

export interface TxPoolStats {
  bytes_max: number
  bytes_med: number
  bytes_min: number
  bytes_total: number
  fee_total: number
  histo_98pc: number
  /** Omitted when empty. */
  histo?: TxPoolHistogramEntry[]
  num_10m: number
  num_double_spends: number
  num_failing: number
  num_not_relayed: number
  oldest: number
  txs_total: number
}

/** Plain `/get_transaction_pool_stats`. */
export interface TxPoolStatsResult extends MonerodAccessFields {
  pool_stats: TxPoolStats
}

/** Plain `/get_net_stats`. */
export interface NetStatsResult extends MonerodStatus {
  start_time: number
  total_bytes_in: number
  total_bytes_out: number
  total_packets_in: number
  total_packets_out: number
}

export interface PeerListEntry {
  id: number
  host: string
  ip: number
  port: number
  rpc_port?: number
  rpc_credits_per_hash?: number
  last_seen: number
  pruning_seed?: number
}

/** Plain `/get_peer_list`. Both lists are omitted when empty. */
export interface PeerListResult extends MonerodStatus {
  white_list?: PeerListEntry[]
  gray_list?: PeerListEntry[]
}
