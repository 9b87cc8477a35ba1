import type { NodeSpec } from '../node-spec/types.js'
import type { HookConfig } from '../config.js'
import type { SetIdentity } from '../labels.js'
import type { ChildMap, KubeObject } from '../metacontroller.js'
import type { NetType } from './monerod-args.js'
import type { NodeExtras } from './node-set.js'
import { buildAnonymityExtras, type HiddenServiceStatus } from './anonymity.js'
import { buildMetricsExtras } from './metrics.js'
import { monerodPorts } from './ports.js'

/** What a pod feature (metrics, Tor, I2P) needs to know about the set it joins. */
export interface FeatureInput {
  readonly parent: KubeObject
  readonly spec: NodeSpec
  readonly workload: string
  readonly identity: SetIdentity
  readonly nettype: NetType
  readonly replicas: number
  readonly config: HookConfig
  /** Observed children, for features that read back what they created. */
  readonly observed: ChildMap
  /** Related objects the customize hook asked for (the user's key Secrets). */
  readonly related?: ChildMap | undefined
  /** Path of the node spec in the resource, for error messages. */
  readonly specPath: string
}

/** The features' extras, and what they contribute to status. */
export interface NodeFeatures {
  readonly extras: NodeExtras[]
  /** status.hiddenServices; undefined while neither Tor nor I2P is enabled. */
  readonly hiddenServices: HiddenServiceStatus[] | undefined
}

/** The optional features enabled in a node spec, each as the extras it adds to the pods. */
export function buildNodeFeatures(input: FeatureInput): NodeFeatures {
  const ports = monerodPorts(input.nettype)
  const namespace = input.parent.metadata.namespace ?? 'default'
  const anonymity = buildAnonymityExtras({
    spec: input.spec,
    namespace,
    name: input.parent.metadata.name,
    workload: input.workload,
    identity: input.identity,
    replicas: input.replicas,
    ports,
    operatorImage: input.config.operatorImage,
    keySeed: input.config.keySeed,
    observed: input.observed,
    related: input.related,
    specPath: input.specPath,
  })
  return {
    extras: [
      buildMetricsExtras({
        metrics: input.spec.metrics,
        spec: input.spec,
        ports,
        operatorImage: input.config.operatorImage,
        namespace,
        workload: input.workload,
        identity: input.identity,
      }),
      anonymity.extras,
    ],
    hiddenServices: anonymity.hiddenServices,
  }
}
