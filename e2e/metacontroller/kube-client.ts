/**
 * The driver's apiserver client: requests (../kube-request.ts: the apiserver's own JSON over
 * HTTPS with the kubeconfig's credentials) on kept-alive connections, and discovery of resources.
 */
import { Agent } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { kubeRequest, messageOf, type KubeAnswer } from '../kube-request.js'

export type { KubeAnswer }

/** What discovery says about one resource. */
export interface ResourceInfo {
  apiVersion: string
  kind: string
  plural: string
  namespaced: boolean
}

/** A small apiserver client bound to one kubeconfig. */
export class KubeClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 })
  private readonly byPlural = new Map<string, ResourceInfo>()
  private readonly byKind = new Map<string, ResourceInfo>()
  readonly server: string

  constructor(readonly kc: KubeConfig) {
    const server = kc.getCurrentCluster()?.server
    if (!server) throw new Error('kubeconfig has no current cluster')
    this.server = server
  }

  /** One request (../kube-request.ts) on this client's kept-alive connections. */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeAnswer> {
    return kubeRequest(this.kc, method, path, { body, headers: body === undefined ? {} : { 'Content-Type': contentType }, agent: this.agent })
  }

  /** Discovery of every resource in apiVersion (cached). */
  private async discover(apiVersion: string): Promise<void> {
    if ([...this.byPlural.keys()].some((k) => k.startsWith(`${apiVersion}|`))) return
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
    const res = await this.request('GET', base)
    if (res.status !== 200) throw new Error(`discovery of ${apiVersion}: ${res.status} ${messageOf(res)}`)
    for (const r of res.body.resources as { name: string; kind: string; namespaced: boolean }[]) {
      if (r.name.includes('/')) continue
      const info = { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced }
      this.byPlural.set(`${apiVersion}|${r.name}`, info)
      this.byKind.set(`${apiVersion}|${r.kind}`, info)
    }
  }

  /** The resource `plural` of apiVersion. */
  async resource(apiVersion: string, plural: string): Promise<ResourceInfo> {
    await this.discover(apiVersion)
    const info = this.byPlural.get(`${apiVersion}|${plural}`)
    if (!info) throw new Error(`the apiserver serves no resource ${plural} in ${apiVersion}`)
    return info
  }

  /** The resource of kind in apiVersion. */
  async kind(apiVersion: string, kind: string): Promise<ResourceInfo> {
    await this.discover(apiVersion)
    const info = this.byKind.get(`${apiVersion}|${kind}`)
    if (!info) throw new Error(`the apiserver serves no kind ${kind} in ${apiVersion}`)
    return info
  }

  /** Forgets discovery (after CRDs were installed). */
  forget(): void {
    this.byPlural.clear()
    this.byKind.clear()
  }

  close(): void {
    this.agent.destroy()
  }
}

/** Collection path (no name) or object path of a resource. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string): string {
  const base = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''
  return `${base}${ns}/${info.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`
}

export { messageOf }
