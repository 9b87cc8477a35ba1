/**
 * Validates child objects against the upstream Kubernetes OpenAPI schemas carried by the
 * kubernetes-models package (test helper).
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import type { KubeObject } from '../metacontroller.js'

type Model = new (data: never) => { validate(): void }

const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Secret': Secret as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'apps/v1/StatefulSet': StatefulSet as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Model,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as Model,
}

/** Kinds whose schemas are not in kubernetes-models (Prometheus Operator CRDs). */
const NOT_CORE = new Set(['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/PrometheusRule'])

/** Throws with the object's kind/name when it does not match the upstream schema. */
export function validateKubeObject(obj: KubeObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`
  if (NOT_CORE.has(key)) return
  const Model = MODELS[key]
  if (!Model) throw new Error(`no upstream schema registered for ${key}`)
  try {
    new Model(obj as never).validate()
  } catch (err) {
    throw new Error(`${key} ${obj.metadata?.name}: ${(err as Error).message}`)
  }
}
