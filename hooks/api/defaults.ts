/** Default images and sizes, in one place (the CRD schema carries them as defaults). */

/** Upstream monerod built by the community image maintained by Seth For Privacy; runs as uid 1000. */
export const DEFAULT_MONEROD_IMAGE = 'ghcr.io/sethforprivacy/simple-monerod:v0.18.4.4'

export const API_GROUP = 'utxo.com.br'
export const API_VERSION = 'v1alpha1'
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`

/** Upstream xmrig release binary (GPG-verified) on a distroless base, entrypoint xmrig, no pool baked in: github.com/comminutus/xmrig, "vanilla" flavour. */
export const DEFAULT_XMRIG_IMAGE = 'ghcr.io/comminutus/xmrig:v6.22.0-vanilla'
