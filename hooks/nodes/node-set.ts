import type { V1Container, V1EnvVar, V1PersistentVolumeClaim, V1PodTemplateSpec, V1ServicePort, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import type { NodeSpec } from '../node-spec/types.js'
import { buildClientService, buildHeadlessService } from '../children/service.js'
import { buildPodDisruptionBudget } from '../children/pdb.js'
import { buildStatefulSet, buildVolumeClaimTemplate } from '../children/statefulset.js'
import { commonLabels, selectorLabels, type SetIdentity } from '../labels.js'
import type { KubeObject } from '../metacontroller.js'
import { DATA_VOLUME, headlessServiceName } from '../names.js'
import { buildMonerodContainer, soloMiningEnabled } from './monerod-container.js'
import { buildSoloMiningPolicy } from './solo-mining.js'
import type { NetType, ParsedOption } from './monerod-args.js'
import { monerodPorts, PORT_NAMES } from './ports.js'
import { buildPodPlacement } from './scheduling.js'
import { checkPodLabels } from '../api/schema-parts.js'
import { checkNodeSpec } from '../node-spec/rules.js'
import { buildContainerSecurityContext, buildPodSecurityContext } from './security.js'

/** What a kind or a feature (Tor, I2P, metrics, peering) adds to every monerod pod. */
export interface NodeExtras {
  /** monerod options after the defaults and before the user's. */
  readonly options?: readonly ParsedOption[]
  readonly initContainers?: readonly V1Container[]
  readonly sidecars?: readonly V1Container[]
  readonly volumes?: readonly V1Volume[]
  readonly monerodMounts?: readonly V1VolumeMount[]
  /** Ports added to both Services (e.g. metrics). */
  readonly servicePorts?: readonly V1ServicePort[]
  readonly podAnnotations?: Readonly<Record<string, string>>
  /** Further children (ConfigMaps, Secrets, per-replica Services, monitors). */
  readonly children?: readonly KubeObject[]
  /**
   * monerod config fragments the init container combines into monerod's --config-file
   * (monerod takes one config file; several features contribute lines to it).
   */
  readonly configIncludes?: readonly ConfigInclude[]
  /**
   * The config has a peer list: init-node resolves every add-exclusive-node name and writes
   * addresses, and runs as a sidecar that keeps the file current.
   */
  readonly waitPeers?: boolean
  /** More `cli init-node` arguments (e.g. copying this replica's hidden-service keys). */
  readonly initArgs?: readonly string[]
  /** Volumes the init container mounts for those arguments. */
  readonly initMounts?: readonly V1VolumeMount[]
  /** Environment of the init container (e.g. POD_NAME from the downward API). */
  readonly initEnv?: readonly V1EnvVar[]
}

/** A config fragment: a file in a volume the init container mounts read-only. */
export interface ConfigInclude {
  readonly volume: V1Volume
  readonly mountPath: string
  readonly file: string
}

/** Where the init container writes monerod's combined config file. */
export const MONEROD_CONFIG_DIR = '/run/monerod'
export const MONEROD_CONFIG_FILE = `${MONEROD_CONFIG_DIR}/monerod.conf`

export interface NodeSetInput {
  readonly namespace: string
  readonly workload: string
  readonly identity: SetIdentity
  readonly replicas: number
  readonly spec: NodeSpec
  readonly nettype: NetType
  readonly extras: readonly NodeExtras[]
  readonly podMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined
  /** Path of the node spec in the resource, for error messages. */
  readonly specPath: string
  /** Our image, for the init container. */
  readonly operatorImage: string
}

export interface NodeSetChildren {
  readonly children: KubeObject[]
  readonly selector: Record<string, string>
}

const asObject = (o: object): KubeObject => o as KubeObject

/**
 * The children of a set of identical monerod replicas: StatefulSet with one data volume per
 * replica, headless and client Services, a PodDisruptionBudget when there is more than one
 * replica, and whatever the extras add. Shared by MoneroNodeSet and MoneroNetwork.
 */
export function buildNodeSetChildren(input: NodeSetInput): NodeSetChildren {
  const { spec, namespace, workload, identity } = input
  checkNodeSpec(spec, input.specPath)
  if (input.podMetadata?.labels) checkPodLabels(input.podMetadata.labels, input.specPath.replace(/\.spec$/, '.metadata.labels'))
  const selector = selectorLabels(identity)
  const labels = commonLabels(identity)
  const ports = monerodPorts(input.nettype)
  const extras = input.extras
  const flat = <T>(pick: (e: NodeExtras) => readonly T[] | undefined): T[] => extras.flatMap((e) => pick(e) ?? [])

  const prepared = buildInitNode(
    {
      includes: flat((e) => e.configIncludes),
      waitPeers: extras.some((e) => e.waitPeers === true),
      args: flat((e) => e.initArgs),
      mounts: flat((e) => e.initMounts),
      env: flat((e) => e.initEnv),
    },
    input.operatorImage,
    spec,
  )
  const monerod = buildMonerodContainer({
    spec,
    nettype: input.nettype,
    extraOptions: [...flat((e) => e.options), ...prepared.options],
    extraMounts: [...flat((e) => e.monerodMounts), ...prepared.monerodMounts],
    specPath: input.specPath,
  })

  const podAnnotations = Object.assign({}, spec.podAnnotations, input.podMetadata?.annotations, ...extras.map((e) => e.podAnnotations ?? {})) as Record<
    string,
    string
  >
  const placement = buildPodPlacement(spec, selector, spec.hardAntiAffinity)
  const template: V1PodTemplateSpec = {
    metadata: {
      labels: { ...spec.podLabels, ...input.podMetadata?.labels, ...labels, ...placement.labels },
      ...(Object.keys(podAnnotations).length > 0 ? { annotations: podAnnotations } : {}),
    },
    spec: {
      // Many Services live in a network's namespace: their env vars would crowd every pod.
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      securityContext: buildPodSecurityContext(spec.podSecurity),
      ...placement.podSpec,
      ...(prepared.initContainers.length + flat((e) => e.initContainers).length > 0
        ? { initContainers: [...prepared.initContainers, ...flat((e) => e.initContainers)] }
        : {}),
      containers: [monerod, ...flat((e) => e.sidecars)],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }, ...prepared.volumes, ...flat((e) => e.volumes)],
    },
  }

  const claim: V1PersistentVolumeClaim = buildVolumeClaimTemplate({
    name: DATA_VOLUME,
    labels: selector,
    size: spec.storage.size,
    storageClassName: spec.storage.storageClassName,
  })

  const headlessPorts: V1ServicePort[] = [
    { name: PORT_NAMES.p2p, port: ports.p2p, targetPort: PORT_NAMES.p2p, protocol: 'TCP' },
    { name: PORT_NAMES.restrictedRpc, port: ports.restrictedRpc, targetPort: PORT_NAMES.restrictedRpc, protocol: 'TCP' },
    ...flat((e) => e.servicePorts),
  ]
  const clientPorts: V1ServicePort[] = [
    ...(spec.service.p2p ? [{ name: PORT_NAMES.p2p, port: ports.p2p, targetPort: PORT_NAMES.p2p, protocol: 'TCP' }] : []),
    ...(spec.service.restrictedRpc
      ? [{ name: PORT_NAMES.restrictedRpc, port: ports.restrictedRpc, targetPort: PORT_NAMES.restrictedRpc, protocol: 'TCP' }]
      : []),
    ...flat((e) => e.servicePorts),
  ]

  const children: KubeObject[] = [
    asObject(
      buildStatefulSet({
        name: workload,
        namespace,
        labels,
        selector,
        replicas: input.replicas,
        serviceName: headlessServiceName(workload),
        template,
        volumeClaimTemplates: [claim],
        retention: spec.storage.retention,
      }),
    ),
    asObject(buildHeadlessService({ name: headlessServiceName(workload), namespace, labels, selector, ports: headlessPorts })),
    asObject(
      buildClientService({
        name: workload,
        namespace,
        labels,
        selector,
        ports: clientPorts,
        type: spec.service.type,
        annotations: spec.service.annotations,
        externalTrafficPolicy: spec.service.type === 'ClusterIP' ? undefined : spec.service.externalTrafficPolicy,
        loadBalancerSourceRanges: spec.service.type === 'LoadBalancer' ? spec.service.loadBalancerSourceRanges : undefined,
      }),
    ),
    ...(input.replicas > 1 ? [asObject(buildPodDisruptionBudget({ name: workload, namespace, labels, selector }))] : []),
    ...(soloMiningEnabled(spec)
      ? [asObject(buildSoloMiningPolicy({ namespace, workload, labels, selector, template, rpcPort: ports.rpc, miners: spec.soloMining.miners ?? [] }))]
      : []),
    ...flat((e) => e.children),
  ]
  return { children, selector }
}

/** What the features ask of the init container. */
interface InitNodeParts {
  readonly includes: readonly ConfigInclude[]
  readonly waitPeers: boolean
  readonly args: readonly string[]
  readonly mounts: readonly V1VolumeMount[]
  readonly env: readonly V1EnvVar[]
}

/**
 * The probe that holds monerod back until init-node's first complete write (the file appears
 * by rename, whole). `test` is coreutils' (Essential in Debian, so in the node bookworm-slim
 * image). Sent exactly as the apiserver stores it: the command list has no merge key, and
 * the apiserver only adds object fields (timeoutSeconds, successThreshold) beside it.
 */
export function initNodeStartupProbe(): NonNullable<V1Container['startupProbe']> {
  return {
    exec: { command: ['test', '-s', MONEROD_CONFIG_FILE] },
    periodSeconds: 1,
    // 10 minutes of waiting for peer names before kubelet restarts the sidecar (a restarted
    // sidecar finds the file of an earlier run at once and goes on keeping it current).
    failureThreshold: 600,
  }
}

/**
 * The container that prepares monerod's config file, when any feature contributes config
 * fragments or init-node work (hidden-service keys). It runs our own image (`cli init-node`).
 *
 * With a peer list (MoneroNetwork) it is a native sidecar (an init container with
 * `restartPolicy: Always`, Kubernetes >= 1.29): it resolves the member names and writes
 * their addresses, monerod starts after its first complete write (startup probe), and it
 * keeps the file current for every later monerod start. Without one it is a plain one-shot
 * init container.
 */
function buildInitNode(
  parts: InitNodeParts,
  operatorImage: string,
  spec: NodeSpec,
): { initContainers: V1Container[]; volumes: V1Volume[]; monerodMounts: V1VolumeMount[]; options: ParsedOption[] } {
  const { includes } = parts
  if (includes.length === 0 && parts.args.length === 0) return { initContainers: [], volumes: [], monerodMounts: [], options: [] }
  const volumes = [{ name: 'monerod-config', emptyDir: { sizeLimit: '16Mi' } }, ...includes.map((i) => i.volume)]
  const sidecar = parts.waitPeers
  const init: V1Container = {
    name: 'init-node',
    image: operatorImage,
    args: [
      'dist/hooks/cli.js',
      'init-node',
      '--out',
      MONEROD_CONFIG_FILE,
      ...includes.flatMap((i) => ['--include', `${i.mountPath}/${i.file}`]),
      ...(parts.waitPeers ? ['--wait-peers', '--watch'] : []),
      ...parts.args,
    ],
    ...(parts.env.length > 0 ? { env: [...parts.env] } : {}),
    ...(sidecar ? { restartPolicy: 'Always', startupProbe: initNodeStartupProbe() } : {}),
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    securityContext: buildContainerSecurityContext(spec.podSecurity, true),
    volumeMounts: [
      { name: 'monerod-config', mountPath: MONEROD_CONFIG_DIR },
      ...includes.map((i) => ({ name: i.volume.name, mountPath: i.mountPath, readOnly: true })),
      ...parts.mounts,
    ],
  }
  return {
    initContainers: [init],
    volumes,
    monerodMounts: [{ name: 'monerod-config', mountPath: MONEROD_CONFIG_DIR, readOnly: true }],
    options: [{ name: 'config-file', value: MONEROD_CONFIG_FILE, known: true }],
  }
}
