/** Defaults and sizes of the miners, in one place (the CRD and the builders read them). */

/** Upstream xmrig release binary (GPG-verified) on a distroless base, entrypoint xmrig, no pool baked in: github.com/comminutus/xmrig, "vanilla" flavour. */
export const DEFAULT_XMRIG_IMAGE = 'ghcr.io/comminutus/xmrig:v6.22.0-vanilla'

/** xmrig HTTP API port (xmrig's documentation uses 8080 too). */
export const DEFAULT_API_PORT = 8080

/** The exporter's own default port (DEFAULT_EXPORTER_PORT; a test keeps them equal). */
export const DEFAULT_METRICS_PORT = 9533

/**
 * 2 MiB pages of RandomX in fast mode: the 2080 MiB dataset (1040 pages) plus the 256 MiB
 * cache (128 pages). Each mining thread adds one page for its 2 MiB scratchpad.
 */
export const RANDOMX_DATASET_PAGES = 1168

/** xmrig's resources when the spec gives none. */
export function defaultXmrigResources(hugePages: boolean): { requests: Record<string, string>; limits: Record<string, string> } {
  // No cpu limit: CFS throttling would only cost hashrate; the cpu request makes xmrig
  // yield to other pods in proportion to their requests. The memory limit keeps headroom
  // for a RandomX dataset that falls back to normal pages.
  return hugePages
    ? { requests: { cpu: '1', memory: '512Mi' }, limits: { memory: '3Gi' } }
    : { requests: { cpu: '1', memory: '2560Mi' }, limits: { memory: '3Gi' } }
}

/** Resources of the exporter sidecar. */
export const EXPORTER_RESOURCES = { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } }
