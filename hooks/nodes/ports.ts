import type { NetType } from './monerod-args.js'

/** monerod's ports for one nettype (regtest uses mainnet's). */
export interface MonerodPorts {
  readonly p2p: number
  /** Unrestricted RPC: on 127.0.0.1 inside the pod, or on the pod addresses with soloMining. */
  readonly rpc: number
  readonly zmq: number
  /** Restricted (view-only) RPC: the one Services expose. */
  readonly restrictedRpc: number
}

const BY_NETTYPE: Record<NetType, MonerodPorts> = {
  mainnet: { p2p: 18080, rpc: 18081, zmq: 18082, restrictedRpc: 18089 },
  regtest: { p2p: 18080, rpc: 18081, zmq: 18082, restrictedRpc: 18089 },
  testnet: { p2p: 28080, rpc: 28081, zmq: 28082, restrictedRpc: 28089 },
  stagenet: { p2p: 38080, rpc: 38081, zmq: 38082, restrictedRpc: 38089 },
}

/** The conventional ports of a nettype. */
export function monerodPorts(nettype: NetType): MonerodPorts {
  return BY_NETTYPE[nettype]
}

/** Container/Service port names (at most 15 characters, IANA style). */
export const PORT_NAMES = {
  p2p: 'p2p',
  restrictedRpc: 'rpc-restricted',
  metrics: 'metrics',
  /** The unrestricted RPC, declared only with soloMining.enabled. */
  miningRpc: 'rpc-mining',
} as const
