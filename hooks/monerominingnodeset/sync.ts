import { commonLabels, selectorLabels, selectorString, type SetIdentity } from '../labels.js'
import { observedByName, type KubeObject, type Parent, type SyncRequest, type SyncResponse } from '../metacontroller.js'
import { workloadName } from '../names.js'
import { computeWorkloadConditions, mergeConditions, readReplicaCounts } from '../status.js'
import type { SyncContext } from '../sync-context.js'
import { poolInUse } from './args.js'
import { buildMinerDisruptionBudget, buildMinerService, buildMinerStatefulSet, type MinerSetInput } from './children.js'
import type { MoneroMiningNodeSetSpec } from './types.js'
import { checkMiningSpec } from './validate.js'

/** MoneroMiningNodeSet -> StatefulSet, headless Service (metrics/API), PDB and status. Pure. */
export function syncMoneroMiningNodeSet(request: SyncRequest<MoneroMiningNodeSetSpec>, ctx: SyncContext): SyncResponse {
  const parent = request.parent as Parent<MoneroMiningNodeSetSpec>
  const spec = parent.spec
  checkMiningSpec(spec)
  const name = parent.metadata.name
  const workload = workloadName('MoneroMiningNodeSet', name)
  const identity: SetIdentity = { kind: 'monerominingnodeset', instance: name, app: 'xmrig', component: 'miner' }
  const selector = selectorLabels(identity)
  const input: MinerSetInput = {
    namespace: parent.metadata.namespace ?? 'default',
    workload,
    spec,
    labels: commonLabels(identity),
    selector,
    operatorImage: ctx.config.operatorImage,
  }
  const service = buildMinerService(input)
  const children = [buildMinerStatefulSet(input), service, buildMinerDisruptionBudget(input)] as KubeObject[]

  const counts = readReplicaCounts(observedByName(request.children, 'apps/v1', 'StatefulSet').get(workload))
  const previous = parent.status?.conditions
  const pool = poolInUse(spec)
  return {
    status: {
      replicas: counts.replicas,
      readyReplicas: counts.readyReplicas,
      updatedReplicas: counts.updatedReplicas,
      availableReplicas: counts.availableReplicas,
      selector: selectorString(selector),
      conditions: mergeConditions(
        previous,
        computeWorkloadConditions(spec.replicas, counts, 'miner', previous),
        ctx.now,
        parent.metadata.generation,
      ),
      ...(pool !== undefined ? { pool } : {}),
    },
    children,
  }
}
