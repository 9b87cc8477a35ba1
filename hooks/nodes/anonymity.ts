/**
 * Tor and I2P for monerod pods: every replica's own, stable hidden-service keys, the tor and
 * i2pd sidecars, their configuration, and the public addresses for status.
 *
 * Keys of replica i, per network, come from (first that applies):
 *   1. the user's Secret (`keysSecretName`), which the customize hook makes Metacontroller
 *      send in `related`; it must hold every replica, and is validated;
 *   2. the observed child Secret this hook wrote earlier, when it was written for the same
 *      `rotation`: an address survives a lost or changed key seed;
 *   3. derivation from the installation's key seed, namespace, name, replica and rotation
 *      (hooks/anonymity/derive.ts): the same resource re-created gets the same addresses.
 * Never randomness or the clock: the same request always gives the same children.
 *
 * All replicas' keys live in ONE Secret (`<i>.<file>` entries, the same format users bring).
 * A StatefulSet has one pod template, so whatever a pod mounts every pod mounts: per-replica
 * Secrets would give no isolation, and listing them in the template would roll every pod on
 * each scale. Keys of replicas removed by scaling down are kept (up to the replica limit), so
 * scaling back up restores those addresses even if the key seed changed meanwhile.
 *
 * Key material goes only into that Secret: never into the ConfigMap, status, logs or errors.
 * Where keys come from and what addresses they give: anonymity-keys.ts. Here: the sidecars,
 * their configuration, volumes and init-node flags, and the Secret and ConfigMap children.
 */
import type { V1Container, V1EnvVar, V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import type { NodeSpec } from '../node-spec/types.js'
import {
  I2PD_DATA_DIR,
  I2PD_SOCKS_PORT,
  I2P_P2P_PORT,
  renderI2pdConf,
  renderI2pdTunnelsConf,
  renderTorrc,
  TOR_P2P_PORT,
  TOR_SOCKS_PORT,
} from '../anonymity/configs.js'
import { MAX_ANONYMOUS_REPLICAS } from '../node-spec/schema.js'
import { commonLabels, type SetIdentity } from '../labels.js'
import { observedByName, type ChildMap, type KubeObject } from '../metacontroller.js'
import { anonymityConfigMapName, hiddenServicesSecretName } from '../names.js'
import { SpecError } from '../rules.js'
import type { ParsedOption } from './monerod-args.js'
import type { NodeExtras } from './node-set.js'
import type { MonerodPorts } from './ports.js'
import { buildContainerSecurityContext } from './security.js'
import { i2pKeyFiles, resolveHiddenServiceKeys, type HiddenServiceStatus } from './anonymity-keys.js'

export type { HiddenServiceStatus } from './anonymity-keys.js'

/** Where the pods see things (also used by init-node's flags and the integration test). */
export const ANONYMITY_PATHS = {
  /** The keys Secret, mounted read-only into init-node only. */
  keys: '/var/run/monero-operator/hidden-service-keys',
  torConfigDir: '/etc/monero-operator/tor',
  i2pdConfigDir: '/etc/monero-operator/i2pd',
  /** emptyDir; init-node creates `data/` and `hidden_service/` (0700) inside it for tor. */
  torVolume: '/var/lib/tor',
  torDataDirectory: '/var/lib/tor/data',
  torHiddenServiceDir: '/var/lib/tor/hidden_service',
  /** emptyDir and i2pd datadir; init-node copies the keys files into it. */
  i2pdDataDir: I2PD_DATA_DIR,
  /** Reseed certificates of the Debian i2pd package (the datadir is an empty volume). */
  i2pdCertsDir: '/usr/share/i2pd/certificates',
} as const

export const TOR_CONTAINER = 'tor'
export const I2PD_CONTAINER = 'i2pd'
/** uid of the operator image (Dockerfile USER), for sidecars of pods that allow root. */
const OPERATOR_IMAGE_UID = 65532

/** Input of {@link buildAnonymityExtras}. */
export interface AnonymityInput {
  readonly spec: NodeSpec
  readonly namespace: string
  /** The parent's name (part of the derivation scope). */
  readonly name: string
  readonly workload: string
  readonly identity: SetIdentity
  readonly replicas: number
  readonly ports: MonerodPorts
  readonly operatorImage: string
  readonly keySeed: Uint8Array | undefined
  readonly observed: ChildMap
  readonly related: ChildMap | undefined
  readonly specPath: string
}

export interface AnonymityResult {
  readonly extras: NodeExtras
  /** Per replica 0..replicas-1, or undefined when neither network is enabled. */
  readonly hiddenServices: HiddenServiceStatus[] | undefined
}

/** A tcp check of a loopback port from inside the container (kubelet probes hit the pod IP). */
function loopbackProbe(port: number, image: string, operatorImage: string): Partial<Record<'startupProbe' | 'livenessProbe', V1Probe>> {
  // Only our image is known to have node; another image gets no probe (a crashed daemon
  // still restarts the container).
  if (image !== operatorImage) return {}
  const command = [
    'node',
    '-e',
    `const s=require('net').connect(${port},'127.0.0.1');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),4000)`,
  ]
  return {
    startupProbe: { exec: { command }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
    livenessProbe: { exec: { command }, periodSeconds: 60, timeoutSeconds: 5, failureThreshold: 3 },
  }
}

function sidecarSecurity(spec: NodeSpec) {
  const base = buildContainerSecurityContext(spec.podSecurity, true)
  // A pod that allows root has no pod-wide uid: run the daemons as the operator image's
  // user, the same uid init-node (same image) creates their directories with.
  return spec.podSecurity.allowRoot ? { ...base, runAsNonRoot: true, runAsUser: OPERATOR_IMAGE_UID, runAsGroup: OPERATOR_IMAGE_UID } : base
}

/**
 * Everything Tor and I2P add to a set of monerod pods, and the addresses for status.
 * Returns empty extras and no status when neither is enabled: the keys Secret then goes
 * (an observed child never makes the hook add one). Re-enabling derives the same keys again
 * from the key seed; keys brought by the user are in the user's own Secret.
 */
export function buildAnonymityExtras(input: AnonymityInput): AnonymityResult {
  const { spec, namespace, workload } = input
  const tor = spec.tor?.enabled ? spec.tor : undefined
  const i2p = spec.i2p?.enabled ? spec.i2p : undefined
  const secretName = hiddenServicesSecretName(workload)
  const observedSecret = observedByName(input.observed, 'v1', 'Secret').get(secretName)
  const labels = commonLabels(input.identity)

  if ((tor || i2p) && input.replicas > MAX_ANONYMOUS_REPLICAS) {
    throw new SpecError(`${input.specPath.replace(/\.template\.spec$/, '')}.replicas`, `at most ${MAX_ANONYMOUS_REPLICAS} replicas while tor or i2p is enabled`)
  }

  if (tor || i2p) {
    const index = (spec.monerod.args ?? []).findIndex((a) => /^--(tx-proxy|anonymous-inbound)(=|$)/.test(a))
    if (index >= 0) {
      throw new SpecError(`${input.specPath}.monerod.args[${index}]`, '--tx-proxy and --anonymous-inbound are set by the operator while tor or i2p is enabled')
    }
  }

  const children: KubeObject[] = []
  // Emitted whenever a network is enabled, even with no replicas (then it may hold only the
  // keys kept for replicas scaled away): whether it exists never depends on what was observed.
  if (!tor && !i2p) return { extras: { children }, hiddenServices: undefined }
  const { data, annotations, hiddenServices } = resolveHiddenServiceKeys(input, tor, i2p, observedSecret)
  children.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace, labels, annotations },
    type: 'Opaque',
    // No keys yet (0 replicas): no data field, as the apiserver stores an empty map.
    ...(Object.keys(data).length > 0 ? { data } : {}),
  })

  // ---- config, volumes, containers ------------------------------------------------------
  const configMapName = anonymityConfigMapName(workload)
  const configData: Record<string, string> = {}
  const volumes: V1Volume[] = [{ name: 'hidden-service-keys', secret: { secretName, defaultMode: 0o440 } }]
  const initMounts: V1VolumeMount[] = [{ name: 'hidden-service-keys', mountPath: ANONYMITY_PATHS.keys, readOnly: true }]
  const initArgs: string[] = ['--replica-from-hostname']
  const options: ParsedOption[] = []
  const sidecars: V1Container[] = []
  const security = sidecarSecurity(spec)

  if (tor) {
    configData.torrc = renderTorrc({
      dataDirectory: ANONYMITY_PATHS.torDataDirectory,
      hiddenServiceDir: ANONYMITY_PATHS.torHiddenServiceDir,
      socksPort: TOR_SOCKS_PORT,
      publishP2p: tor.publish.p2p,
      p2pPort: TOR_P2P_PORT,
      publishRestrictedRpc: tor.publish.restrictedRpc,
      restrictedRpcPort: input.ports.restrictedRpc,
    })
    volumes.push(
      { name: 'tor-config', configMap: { name: configMapName, items: [{ key: 'torrc', path: 'torrc' }] } },
      { name: 'tor-data', emptyDir: { sizeLimit: '64Mi' } },
    )
    initMounts.push({ name: 'tor-data', mountPath: ANONYMITY_PATHS.torVolume })
    initArgs.push('--tor-keys', ANONYMITY_PATHS.keys, '--tor-out', ANONYMITY_PATHS.torVolume)
    if (tor.publish.p2p) initArgs.push('--tor-inbound', `${TOR_P2P_PORT},${tor.inboundMaxConnections}`)
    options.push({ name: 'tx-proxy', value: `tor,127.0.0.1:${TOR_SOCKS_PORT},${tor.maxConnections}`, known: true })
    const image = tor.image || input.operatorImage
    sidecars.push({
      name: TOR_CONTAINER,
      image,
      command: ['tor'],
      args: ['-f', `${ANONYMITY_PATHS.torConfigDir}/torrc`],
      resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      ...loopbackProbe(TOR_SOCKS_PORT, image, input.operatorImage),
      securityContext: security,
      volumeMounts: [
        { name: 'tor-config', mountPath: ANONYMITY_PATHS.torConfigDir, readOnly: true },
        { name: 'tor-data', mountPath: ANONYMITY_PATHS.torVolume },
      ],
    })
  }

  if (i2p) {
    configData['i2pd.conf'] = renderI2pdConf({
      dataDir: ANONYMITY_PATHS.i2pdDataDir,
      tunnelsConf: `${ANONYMITY_PATHS.i2pdConfigDir}/tunnels.conf`,
      socksPort: I2PD_SOCKS_PORT,
    })
    configData['tunnels.conf'] = renderI2pdTunnelsConf({
      publishP2p: i2p.publish.p2p,
      p2pPort: I2P_P2P_PORT,
      publishRestrictedRpc: i2p.publish.restrictedRpc,
      restrictedRpcPort: input.ports.restrictedRpc,
    })
    volumes.push(
      {
        name: 'i2pd-config',
        configMap: {
          name: configMapName,
          items: [
            { key: 'i2pd.conf', path: 'i2pd.conf' },
            { key: 'tunnels.conf', path: 'tunnels.conf' },
          ],
        },
      },
      { name: 'i2pd-data', emptyDir: { sizeLimit: '256Mi' } },
    )
    initMounts.push({ name: 'i2pd-data', mountPath: ANONYMITY_PATHS.i2pdDataDir })
    initArgs.push('--i2p-keys', ANONYMITY_PATHS.keys, '--i2p-out', ANONYMITY_PATHS.i2pdDataDir)
    for (const file of i2pKeyFiles(i2p)) initArgs.push('--i2p-file', file)
    if (i2p.publish.p2p) initArgs.push('--i2p-inbound', `${I2P_P2P_PORT},${i2p.inboundMaxConnections}`)
    options.push({ name: 'tx-proxy', value: `i2p,127.0.0.1:${I2PD_SOCKS_PORT},${i2p.maxConnections}`, known: true })
    const image = i2p.image || input.operatorImage
    sidecars.push({
      name: I2PD_CONTAINER,
      image,
      command: ['i2pd'],
      args: [
        `--conf=${ANONYMITY_PATHS.i2pdConfigDir}/i2pd.conf`,
        `--tunconf=${ANONYMITY_PATHS.i2pdConfigDir}/tunnels.conf`,
        // i2pd takes its datadir from the command line only (not from i2pd.conf)
        `--datadir=${ANONYMITY_PATHS.i2pdDataDir}`,
        `--certsdir=${ANONYMITY_PATHS.i2pdCertsDir}`,
      ],
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      ...loopbackProbe(I2PD_SOCKS_PORT, image, input.operatorImage),
      securityContext: security,
      volumeMounts: [
        { name: 'i2pd-config', mountPath: ANONYMITY_PATHS.i2pdConfigDir, readOnly: true },
        { name: 'i2pd-data', mountPath: ANONYMITY_PATHS.i2pdDataDir },
      ],
    })
  }

  children.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMapName, namespace, labels }, data: configData })
  const env: V1EnvVar[] = [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]
  return {
    extras: { options, sidecars, volumes, children, initArgs, initMounts, initEnv: env },
    hiddenServices,
  }
}
