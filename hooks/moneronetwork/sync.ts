import { commonLabels, type SetIdentity } from '../labels.js'
import type { Parent, SyncRequest, SyncResponse } from '../metacontroller.js'
import { nettypeOf } from '../node-spec/nettype.js'
import { podName, workloadName } from '../names.js'
import { buildNodeFeatures } from '../nodes/features.js'
import { buildNodeSetChildren } from '../nodes/node-set.js'
import { monerodPorts } from '../nodes/ports.js'
import { computeWorkloadStatus } from '../status.js'
import type { SyncContext } from '../sync-context.js'
import { buildPeeringExtras } from './peers.js'
import type { MoneroNetworkSpec } from './types.js'

/** Networks up to this size list their peer endpoints in status; larger ones give the count. */
export const MAX_LISTED_PEERS = 32

/** MoneroNetwork -> a closed network of monerod peers. Pure. */
export function syncMoneroNetwork(request: SyncRequest<MoneroNetworkSpec>, ctx: SyncContext): SyncResponse {
  const parent = request.parent as Parent<MoneroNetworkSpec>
  const { replicas, template } = parent.spec
  const spec = template.spec
  const name = parent.metadata.name
  const namespace = parent.metadata.namespace ?? 'default'
  const workload = workloadName('MoneroNetwork', name)
  const identity: SetIdentity = { kind: 'moneronetwork', instance: name, app: 'monerod', component: 'peer' }
  const specPath = 'spec.template.spec'
  const nettype = nettypeOf(spec.monerod.args, `${specPath}.monerod.args`)
  const ports = monerodPorts(nettype)

  const features = buildNodeFeatures({
    parent,
    spec,
    workload,
    identity,
    nettype,
    replicas,
    config: ctx.config,
    observed: request.children,
    related: request.related,
    specPath,
  })
  const { children, selector } = buildNodeSetChildren({
    namespace,
    workload,
    identity,
    replicas,
    spec,
    nettype,
    specPath,
    operatorImage: ctx.config.operatorImage,
    podMetadata: template.metadata,
    extras: [buildPeeringExtras({ workload, namespace, replicas, labels: commonLabels(identity), p2pPort: ports.p2p }), ...features.extras],
  })

  const peers: string[] = []
  if (replicas <= MAX_LISTED_PEERS) {
    for (let i = 0; i < replicas; i++) peers.push(`${podName(workload, i)}.${namespace}.svc:${ports.p2p}`)
  }
  const { conditions, ...counts } = computeWorkloadStatus({
    parent,
    children: request.children,
    workload,
    desired: replicas,
    selector,
    noun: 'peer',
    now: ctx.now,
  })
  return {
    status: {
      ...counts,
      nettype,
      peerCount: replicas,
      ...(replicas <= MAX_LISTED_PEERS ? { peers } : {}),
      conditions,
      ...(features.hiddenServices ? { hiddenServices: features.hiddenServices } : {}),
    },
    children,
  }
}
