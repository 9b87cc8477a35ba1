/**
 * The children of a MoneroMiningNodeSet: one StatefulSet for the whole fleet, a headless
 * Service for scraping (when the API or metrics run), and a PodDisruptionBudget. Pure.
 *
 * Why a StatefulSet for stateless miners: it is the only built-in workload that gives each
 * pod a stable ordinal, which becomes the worker id $(id), so a pool's per-worker statistics
 * survive restarts and rollouts (a Deployment's pods get random names). Miners have no
 * volumes, so none of the StatefulSet's storage semantics apply; pods are managed in
 * Parallel (scaling 10 -> 1000 does not start one pod at a time).
 */
import type {
  V1Container,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1ResourceRequirements,
  V1Service,
  V1StatefulSet,
  V1Volume,
} from '@kubernetes/client-node'
import type { Resources } from '../api/types.js'
import { buildPodDisruptionBudget } from '../children/pdb.js'
import { buildHeadlessService } from '../children/service.js'
import { buildStatefulSet } from '../children/statefulset.js'
import { buildPodPlacement } from '../nodes/scheduling.js'
import { buildContainerSecurityContext, buildPodSecurityContext } from '../nodes/security.js'
import { apiRuns, buildXmrigArgs } from './args.js'
import { defaultXmrigResources, EXPORTER_RESOURCES, RANDOMX_DATASET_PAGES } from './defaults.js'
import { ENV_API_TOKEN, ENV_ID, ENV_PASSWORD, ENV_POD_NAME } from './flags.js'
import { planMaxUnavailable, statefulSetRollout, type MaxUnavailablePlan } from './max-unavailable.js'
import type { MoneroMiningNodeSetSpec } from './types.js'
import { canonicalQuantity, canonicalResourceList } from '../children/quantity.js'

/** The label the StatefulSet controller puts on each pod with its ordinal (Kubernetes 1.28+). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'

const TOKEN_VOLUME = 'api-token'
const TOKEN_DIR = '/var/run/secrets/xmrig-api'

export interface MinerSetInput {
  readonly namespace: string
  readonly workload: string
  readonly spec: MoneroMiningNodeSetSpec
  readonly labels: Record<string, string>
  readonly selector: Record<string, string>
  /** The operator's image, which runs the exporter sidecar. */
  readonly operatorImage: string
  /** What to do with spec.maxUnavailable (from the observed StatefulSet); default: send it. */
  readonly maxUnavailable?: MaxUnavailablePlan
}

/** 2 MiB pages per miner: explicit, or the RandomX dataset and cache plus one per thread. */
export function hugePagesPerMiner(spec: MoneroMiningNodeSetSpec): number | undefined {
  if (!spec.hugePages.enabled) return undefined
  if (spec.hugePages.pages !== undefined) return spec.hugePages.pages
  return spec.threads === undefined ? undefined : RANDOMX_DATASET_PAGES + spec.threads
}

/**
 * xmrig's resources: the user's (or the defaults) plus hugepages-2Mi, request = limit. Written
 * as the apiserver stores them (canonical quantities, no empty lists), so the StatefulSet does
 * not differ from its stored self on every sync.
 */
export function buildXmrigResources(spec: MoneroMiningNodeSetSpec): V1ResourceRequirements {
  const base: Resources = spec.xmrig.resources ?? defaultXmrigResources(spec.hugePages.enabled)
  const pages = hugePagesPerMiner(spec)
  const huge: Record<string, string> = pages === undefined ? {} : { 'hugepages-2Mi': canonicalQuantity(`${pages * 2}Mi`) }
  const requests = { ...canonicalResourceList(base.requests), ...huge }
  const limits = { ...canonicalResourceList(base.limits), ...huge }
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  }
}

/** Env of xmrig: the variables $(id), $(POD_NAME) and the secrets, then the user's. */
export function buildXmrigEnv(spec: MoneroMiningNodeSetSpec): V1EnvVar[] {
  return [
    { name: ENV_ID, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX_LABEL}']` } } },
    { name: ENV_POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...(spec.pool?.passwordSecretRef
      ? [{ name: ENV_PASSWORD, valueFrom: { secretKeyRef: { name: spec.pool.passwordSecretRef.name, key: spec.pool.passwordSecretRef.key } } }]
      : []),
    ...(apiRuns(spec) && spec.api.accessTokenSecretRef
      ? [{ name: ENV_API_TOKEN, valueFrom: { secretKeyRef: { name: spec.api.accessTokenSecretRef.name, key: spec.api.accessTokenSecretRef.key } } }]
      : []),
    ...(spec.xmrig.env ?? []),
  ]
}

function buildXmrigContainer(spec: MoneroMiningNodeSetSpec): V1Container {
  const restricted = buildContainerSecurityContext(spec.podSecurity)
  return {
    name: 'xmrig',
    image: spec.xmrig.image,
    ...(spec.xmrig.imagePullPolicy ? { imagePullPolicy: spec.xmrig.imagePullPolicy } : {}),
    // The image's entrypoint is xmrig: only arguments, so Kubernetes expands $(id) natively.
    args: buildXmrigArgs(spec),
    env: buildXmrigEnv(spec),
    ...(spec.api.enabled ? { ports: [{ name: 'api', containerPort: spec.api.port, protocol: 'TCP' }] } : {}),
    resources: buildXmrigResources(spec),
    // MSR writes need root and the host's /dev/cpu/*/msr: only as an explicit opt-in.
    securityContext: spec.msr.enabled
      ? {
          privileged: true,
          allowPrivilegeEscalation: true,
          runAsUser: 0,
          runAsNonRoot: false,
          readOnlyRootFilesystem: spec.podSecurity.readOnlyRootFilesystem,
        }
      : restricted,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  }
}

function buildExporterContainer(spec: MoneroMiningNodeSetSpec, image: string): V1Container {
  const token = spec.api.accessTokenSecretRef ? ['--token-file', `${TOKEN_DIR}/token`] : []
  return {
    name: 'exporter',
    image,
    command: ['node', 'dist/hooks/cli.js', 'exporter', '--xmrig', `http://127.0.0.1:${spec.api.port}`, ...token, '--port', String(spec.metrics.port)],
    ports: [{ name: 'metrics', containerPort: spec.metrics.port, protocol: 'TCP' }],
    // /readyz answers 200 only while xmrig is connected to a pool: a rollout to a pool that
    // does not answer stops after the first miner instead of taking the fleet down.
    readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 6, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
    resources: EXPORTER_RESOURCES,
    securityContext: buildContainerSecurityContext(spec.podSecurity, true),
    ...(spec.api.accessTokenSecretRef ? { volumeMounts: [{ name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true }] } : {}),
  }
}

/** The pod template shared by every miner. */
export function buildMinerTemplate(input: MinerSetInput): V1PodTemplateSpec {
  const { spec } = input
  const metrics = spec.metrics.enabled
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]
  if (metrics && spec.api.accessTokenSecretRef) {
    volumes.push({
      name: TOKEN_VOLUME,
      secret: {
        secretName: spec.api.accessTokenSecretRef.name,
        items: [{ key: spec.api.accessTokenSecretRef.key, path: 'token' }],
        defaultMode: 0o440,
      },
    })
  }
  const placement = buildPodPlacement(spec, input.selector, spec.hardAntiAffinity)
  return {
    metadata: {
      labels: { ...spec.podLabels, ...input.labels, ...placement.labels },
      ...(spec.podAnnotations && Object.keys(spec.podAnnotations).length > 0 ? { annotations: spec.podAnnotations } : {}),
    },
    spec: {
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      // xmrig stops at once on SIGTERM; nothing to flush.
      terminationGracePeriodSeconds: 30,
      securityContext: buildPodSecurityContext(spec.podSecurity),
      ...placement.podSpec,
      containers: [buildXmrigContainer(spec), ...(metrics ? [buildExporterContainer(spec, input.operatorImage)] : [])],
      volumes,
    },
  }
}

/**
 * The StatefulSet running every miner of the set (stateless: no volume claims). spec.maxUnavailable
 * reaches its rolling updates only where the cluster keeps it (see max-unavailable.ts).
 */
export function buildMinerStatefulSet(input: MinerSetInput): V1StatefulSet {
  const rollout = statefulSetRollout(input.maxUnavailable ?? planMaxUnavailable(input.spec.maxUnavailable, undefined))
  return buildStatefulSet({
    name: input.workload,
    namespace: input.namespace,
    labels: input.labels,
    selector: input.selector,
    replicas: input.spec.replicas,
    serviceName: input.workload,
    template: buildMinerTemplate(input),
    maxUnavailable: rollout.maxUnavailable,
    annotations: rollout.annotations,
  })
}

/**
 * Headless Service over the miners: the StatefulSet's governing Service (its serviceName must
 * exist, even without ports), one scrape target per pod, and the API when exposed.
 */
export function buildMinerService(input: MinerSetInput): V1Service {
  const { spec } = input
  const ports = [
    ...(spec.metrics.enabled ? [{ name: 'metrics', port: spec.metrics.port, targetPort: 'metrics', protocol: 'TCP' }] : []),
    ...(spec.api.enabled ? [{ name: 'api', port: spec.api.port, targetPort: 'api', protocol: 'TCP' }] : []),
  ]
  // Only miners that are connected (Ready) serve the API; scrapers discover all pods anyway.
  return buildHeadlessService({
    name: input.workload,
    namespace: input.namespace,
    labels: input.labels,
    selector: input.selector,
    ports,
    publishNotReadyAddresses: false,
  })
}

/** Voluntary disruptions (drains): miners are interchangeable, so 10% may go at once by default. */
export function buildMinerDisruptionBudget(input: MinerSetInput): V1PodDisruptionBudget {
  const pdb = buildPodDisruptionBudget({ name: input.workload, namespace: input.namespace, labels: input.labels, selector: input.selector })
  return { ...pdb, spec: { ...pdb.spec, maxUnavailable: input.spec.maxUnavailable ?? '10%' } }
}
