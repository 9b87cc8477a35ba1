import type { V1Container, V1Probe } from '@kubernetes/client-node'
import type { NodeSpec } from '../node-spec/types.js'
import { ArgumentError, mergeMonerodArgs, parseMonerodArgs, type NetType, type ParsedOption, type ReservedOption } from './monerod-args.js'
import { monerodPorts, PORT_NAMES, type MonerodPorts } from './ports.js'
import { buildContainerSecurityContext } from './security.js'
import { canonicalResources } from '../children/quantity.js'
import { SpecError } from '../rules.js'

/** Whether a node spec opens the unrestricted RPC to miners (absent on specs stored before the field existed). */
export function soloMiningEnabled(spec: NodeSpec): boolean {
  return spec.soloMining?.enabled === true
}

/** Where the data volume is mounted; monerod's --data-dir. */
export const DATA_DIR = '/data'

/** Flags the operator owns, with the reason a user sees when setting one. */
export const RESERVED: readonly ReservedOption[] = [
  { name: 'data-dir', reason: `chain data must live on the persistent volume (${DATA_DIR}); change storage instead` },
  {
    name: 'rpc-bind-ip',
    reason:
      'the unrestricted RPC stays on 127.0.0.1 inside the pod (soloMining.enabled binds it on the pod addresses for the named miners); clients use the restricted RPC port the Service exposes',
  },
  { name: 'rpc-bind-port', reason: 'the operator fixes RPC ports per network type' },
  { name: 'rpc-restricted-bind-ip', reason: 'the restricted RPC listens on all pod addresses so the Service can reach it' },
  { name: 'rpc-restricted-bind-port', reason: 'the operator fixes RPC ports per network type' },
  { name: 'p2p-bind-port', reason: 'the operator fixes the P2P port per network type' },
  { name: 'confirm-external-bind', reason: 'the operator sets it only with soloMining.enabled; otherwise the unrestricted RPC never leaves the pod' },
  { name: 'restricted-rpc', reason: 'the unrestricted RPC is loopback-only already; the restricted one is always on' },
  { name: 'detach', reason: 'monerod must stay in the foreground in a container' },
  { name: 'pidfile', reason: 'not needed in a container' },
  { name: 'config-file', reason: 'the operator manages configuration files; pass options as args' },
]

/**
 * The operator's defaults for a nettype, before the user's arguments. With soloMining the
 * unrestricted RPC listens on every pod address (still on the nettype's RPC port); the
 * set's NetworkPolicy admits only the named miners to it (solo-mining.ts).
 */
export function defaultMonerodOptions(nettype: NetType, ports: MonerodPorts, soloMining = false): ParsedOption[] {
  const o = (name: string, value?: string): ParsedOption => ({ name, value, known: true })
  return [
    o('non-interactive'),
    o('data-dir', DATA_DIR),
    o('p2p-bind-ip', '0.0.0.0'),
    o('p2p-bind-port', String(ports.p2p)),
    o('rpc-bind-ip', soloMining ? '0.0.0.0' : '127.0.0.1'),
    o('rpc-bind-port', String(ports.rpc)),
    ...(soloMining ? [o('confirm-external-bind')] : []),
    o('rpc-restricted-bind-ip', '0.0.0.0'),
    o('rpc-restricted-bind-port', String(ports.restrictedRpc)),
    o('no-igd'),
    o('check-updates', 'disabled'),
    o('log-file', '/dev/stdout'),
    o('max-log-file-size', '0'),
    // regtest wipes its chain at every start unless told to keep it
    ...(nettype === 'regtest' ? [o('keep-fakechain')] : []),
  ]
}

export interface MonerodContainerInput {
  spec: NodeSpec
  nettype: NetType
  /** Options the kind adds after the defaults (e.g. a network's --config-file). */
  extraOptions: readonly ParsedOption[]
  /** Extra mounts (e.g. configuration files). */
  extraMounts?: V1Container['volumeMounts']
  /** Path of the node spec in the resource, for error messages (`spec` or `spec.template.spec`). */
  specPath?: string
}

/** Builds the monerod container: merged args, ports, probes, resources and security. */
export function buildMonerodContainer(input: MonerodContainerInput): V1Container {
  const { spec, nettype } = input
  const ports = monerodPorts(nettype)
  const userArgs = spec.monerod.args ?? []
  const solo = soloMiningEnabled(spec)
  let args: string[]
  try {
    args = mergeMonerodArgs([...defaultMonerodOptions(nettype, ports, solo), ...input.extraOptions], userArgs, RESERVED)
  } catch (err) {
    if (err instanceof ArgumentError) throw new SpecError(`${input.specPath ?? 'spec'}.monerod.args[${err.index}]`, err.message)
    throw err
  }
  // With --rpc-login every RPC answer needs Digest auth, so an HTTP probe would only see 401.
  const needsAuth = parseMonerodArgs(userArgs).some((o) => o.name === 'rpc-login')
  const probe = (extra: Partial<V1Probe>): V1Probe => ({
    ...(needsAuth ? { tcpSocket: { port: PORT_NAMES.restrictedRpc } } : { httpGet: { path: '/get_height', port: PORT_NAMES.restrictedRpc } }),
    ...extra,
  })
  return {
    name: 'monerod',
    image: spec.monerod.image,
    ...(spec.monerod.imagePullPolicy ? { imagePullPolicy: spec.monerod.imagePullPolicy } : {}),
    command: ['monerod'],
    args,
    ports: [
      { name: PORT_NAMES.p2p, containerPort: ports.p2p, protocol: 'TCP' },
      { name: PORT_NAMES.restrictedRpc, containerPort: ports.restrictedRpc, protocol: 'TCP' },
      ...(solo ? [{ name: PORT_NAMES.miningRpc, containerPort: ports.rpc, protocol: 'TCP' }] : []),
    ],
    ...(spec.monerod.env && spec.monerod.env.length > 0 ? { env: spec.monerod.env } : {}),
    // As the apiserver stores them (canonical quantities, no empty maps): no update on every sync.
    resources: canonicalResources(spec.monerod.resources),
    // The database loads before RPC answers: up to 2 hours after an unclean shutdown.
    startupProbe: probe({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 720 }),
    livenessProbe: probe({ periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 }),
    readinessProbe: probe({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }),
    securityContext: buildContainerSecurityContext(spec.podSecurity),
    volumeMounts: [{ name: 'data', mountPath: DATA_DIR }, { name: 'tmp', mountPath: '/tmp' }, ...(input.extraMounts ?? [])],
  }
}
