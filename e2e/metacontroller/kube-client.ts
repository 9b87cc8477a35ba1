/**
 * The driver's apiserver client: plain JSON over HTTPS with the kubeconfig's credentials
 * (client-node's typed serializers drop fields they only know by their TypeScript names, so
 * objects are sent and read as the apiserver's JSON), and discovery of resources.
 */
import { Agent, request, type RequestOptions } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'

/** An answer of the apiserver. */
export interface KubeAnswer {
  status: number
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

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

  /** One request; JSON in, JSON (or text) out. Never throws on HTTP errors, only on transport ones. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeAnswer> {
    const options: RequestOptions = { method, headers: { Accept: 'application/json' }, agent: this.agent }
    await this.kc.applyToHTTPSOptions(options)
    options.agent = this.agent
    const payload = body === undefined ? undefined : JSON.stringify(body)
    // Content-Length always: Node sends a DELETE body neither chunked nor sized, so the
    // apiserver would read it as the start of the next request on the kept-alive connection.
    if (payload !== undefined) options.headers = { ...options.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.server), options, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // plain-text answer
          }
          if (process.env.DRIVER_DEBUG && typeof parsed === 'string' && (res.statusCode ?? 0) >= 400) {
            process.stderr.write(
              `[kube-client] ${method} ${path} -> ${res.statusCode} ${JSON.stringify(res.headers)} ${text.slice(0, 200)} (request: ${payload?.length ?? 0} chars, headers ${JSON.stringify(Object.keys(options.headers ?? {}))})\n`,
            )
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
        res.on('error', reject)
      })
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)))
      req.on('error', reject)
      req.end(payload)
    })
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

/** The message of an apiserver Status (or the raw body). */
export function messageOf(answer: KubeAnswer): string {
  const b = answer.body
  return typeof b === 'object' && b !== null && typeof b.message === 'string' ? b.message : JSON.stringify(b)
}
