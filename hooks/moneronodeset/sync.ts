import type { SetIdentity } from '../labels.js'
import type { Parent, SyncRequest, SyncResponse } from '../metacontroller.js'
import { workloadName } from '../names.js'
import { nettypeOf } from '../node-spec/nettype.js'
import { buildNodeSetChildren } from '../nodes/node-set.js'
import { computeWorkloadStatus } from '../status.js'
import type { SyncContext } from '../sync-context.js'
import { buildNodeFeatures } from '../nodes/features.js'
import type { MoneroNodeSetSpec } from './types.js'

/** Who the pods of a MoneroNodeSet are (their labels and selector derive from it). */
export function nodeSetIdentity(name: string): SetIdentity {
  return { kind: 'moneronodeset', instance: name, app: 'monerod', component: 'node' }
}

/** MoneroNodeSet -> StatefulSet, Services, PDB (+ features) and status. Pure. */
export function syncMoneroNodeSet(request: SyncRequest<MoneroNodeSetSpec>, ctx: SyncContext): SyncResponse {
  const parent = request.parent as Parent<MoneroNodeSetSpec>
  const spec = parent.spec
  const name = parent.metadata.name
  const namespace = parent.metadata.namespace ?? 'default'
  const workload = workloadName('MoneroNodeSet', name)
  const identity = nodeSetIdentity(name)
  const nettype = nettypeOf(spec.monerod.args)

  const features = buildNodeFeatures({
    parent,
    spec,
    workload,
    identity,
    nettype,
    replicas: spec.replicas,
    config: ctx.config,
    observed: request.children,
    related: request.related,
    specPath: 'spec',
  })
  const { children, selector } = buildNodeSetChildren({
    namespace,
    workload,
    identity,
    replicas: spec.replicas,
    spec,
    nettype,
    specPath: 'spec',
    operatorImage: ctx.config.operatorImage,
    extras: features.extras,
  })

  return {
    status: {
      ...computeWorkloadStatus({
        parent,
        children: request.children,
        workload,
        desired: spec.replicas,
        selector,
        noun: 'node',
        now: ctx.now,
        pods: request.related?.['Pod.v1'],
      }),
      ...(features.hiddenServices ? { hiddenServices: features.hiddenServices } : {}),
    },
    children,
  }
}
