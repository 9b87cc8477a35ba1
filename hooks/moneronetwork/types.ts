import type { NodeSpec } from '../node-spec/types.js'

/** A MoneroNetwork spec after defaulting: replicas and a template of the shared node spec. */
export interface MoneroNetworkSpec {
  replicas: number
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }
    spec: NodeSpec
  }
}
