import { commonLabels, selectorLabels, type SetIdentity } from '../labels.js'
import { observedByName, type KubeObject, type Parent, type SyncRequest, type SyncResponse } from '../metacontroller.js'
import { workloadName } from '../names.js'
import { computeWorkloadStatus, mergeConditions, type Condition } from '../status.js'
import { buildPodMonitor } from '../nodes/metrics.js'
import type { SyncContext } from '../sync-context.js'
import { poolInUse } from './args.js'
import { buildMinerDisruptionBudget, buildMinerService, buildMinerStatefulSet, type MinerSetInput } from './children.js'
import { maxUnavailableCondition, planMaxUnavailable } from './max-unavailable.js'
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
  const maxUnavailable = planMaxUnavailable(spec.maxUnavailable, observedByName(request.children, 'apps/v1', 'StatefulSet').get(workload))
  const input: MinerSetInput = {
    namespace: parent.metadata.namespace ?? 'default',
    workload,
    spec,
    labels: commonLabels(identity),
    selector,
    operatorImage: ctx.config.operatorImage,
    maxUnavailable,
  }
  const service = buildMinerService(input)
  const children = [buildMinerStatefulSet(input), service, buildMinerDisruptionBudget(input)] as KubeObject[]
  if (spec.metrics.enabled && spec.metrics.podMonitor?.enabled) {
    children.push(buildPodMonitor({ metrics: spec.metrics, namespace: input.namespace, workload, identity }))
  }

  const pool = poolInUse(spec)
  const status = computeWorkloadStatus({ parent, children: request.children, workload, desired: spec.replicas, selector, noun: 'miner', now: ctx.now })
  const rolloutCondition = maxUnavailableCondition(maxUnavailable)
  if (rolloutCondition) {
    const previous = (parent.status as Record<string, unknown> | undefined)?.conditions
    status.conditions = [...(status.conditions as Condition[]), ...mergeConditions(previous, [rolloutCondition], ctx.now, parent.metadata.generation)]
  }
  return {
    status: {
      ...status,
      ...(pool !== undefined ? { pool } : {}),
    },
    children,
  }
}
