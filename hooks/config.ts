/**
 * The hook server's configuration: everything a sync needs besides the request. Read once
 * from the environment in main.ts and passed down; builders never read the environment.
 */
export interface HookConfig {
  /** Our own image: runs the metrics exporter sidecar and the network's peer-wait init container. */
  readonly operatorImage: string
  /**
   * Per-installation secret from which hidden-service keys are derived (Tor/I2P). Undefined:
   * resources that enable Tor or I2P without their own key Secret are rejected.
   */
  readonly keySeed?: Uint8Array | undefined
}

/** The image built from this repository, tagged with the package version. */
export const DEFAULT_OPERATOR_IMAGE = 'ghcr.io/utxobr/monero-operator:0.1.0'

export const DEFAULT_CONFIG: HookConfig = { operatorImage: DEFAULT_OPERATOR_IMAGE }
