/**
 * The CRDs of our three kinds, each built in its own folder (hooks/<kind>/crd.ts).
 * `npm run gen:crds` writes them to crds/; a test fails when crds/ differs from this output.
 */
import { buildMoneroMiningNodeSetCrd } from '../monerominingnodeset/crd.js'
import { buildMoneroNetworkCrd } from '../moneronetwork/crd.js'
import { buildMoneroNodeSetCrd } from '../moneronodeset/crd.js'

/** All CRDs keyed by the file name they are written to in crds/. */
export function buildAllCrds(): Record<string, Record<string, unknown>> {
  return {
    'moneronodesets.yaml': buildMoneroNodeSetCrd(),
    'moneronetworks.yaml': buildMoneroNetworkCrd(),
    'monerominingnodesets.yaml': buildMoneroMiningNodeSetCrd(),
  }
}
