import type { NodeSpec } from '../node-spec/types.js'

/** A MoneroNodeSet spec after defaulting: the shared node spec plus replicas. */
export interface MoneroNodeSetSpec extends NodeSpec {
  replicas: number
}
