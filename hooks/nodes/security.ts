import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node'
import type { PodSecuritySpec } from '../api/types.js'

/** Pod-level security context: "restricted" Pod Security Standard unless allowRoot opts out. */
export function buildPodSecurityContext(s: PodSecuritySpec): V1PodSecurityContext {
  return {
    ...(s.allowRoot ? {} : { runAsNonRoot: true, runAsUser: s.runAsUser, runAsGroup: s.runAsGroup }),
    fsGroup: s.fsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  }
}

/** Container-level security context shared by every container we run. */
export function buildContainerSecurityContext(s: PodSecuritySpec, readOnlyRoot = s.readOnlyRootFilesystem): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: readOnlyRoot,
    ...(s.allowRoot ? {} : { runAsNonRoot: true }),
  }
}
