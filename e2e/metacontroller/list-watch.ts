/**
 * A minimal informer: list a resource in all namespaces, then watch it from the list's
 * resourceVersion with client-node's Watch, keep the objects in a map and report every
 * change. A watch that ends (timeout, 410 Gone, network) is followed by a fresh list.
 */
import { Watch } from '@kubernetes/client-node'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { type KubeClient, type ResourceInfo, messageOf, resourcePath } from './kube-client.js'

export type ChangeKind = 'ADDED' | 'MODIFIED' | 'DELETED'

/** The objects of one resource, kept current by list + watch. */
export class ListWatch {
  /** Objects by `namespace/name`. */
  readonly objects = new Map<string, KubeObject>()
  private abort: AbortController | undefined
  private stopped = false
  private synced!: Promise<void>
  private markSynced!: () => void
  private retry: NodeJS.Timeout | undefined

  constructor(
    private readonly client: KubeClient,
    readonly info: ResourceInfo,
    private readonly onChange: (kind: ChangeKind, obj: KubeObject, old?: KubeObject) => void,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve))
  }

  /** Starts listing and watching; resolves after the first list. */
  start(): Promise<void> {
    void this.listAndWatch()
    return this.synced
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
    this.abort?.abort()
  }

  /** Objects in one namespace. */
  inNamespace(namespace: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.metadata.namespace === namespace)
  }

  private again(delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.retry)
    this.retry = setTimeout(() => void this.listAndWatch(), delayMs)
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return
    const path = resourcePath(this.info)
    let resourceVersion: string
    try {
      const res = await this.client.request('GET', path)
      if (res.status !== 200) throw new Error(`${res.status} ${messageOf(res)}`)
      resourceVersion = res.body.metadata.resourceVersion as string
      const seen = new Set<string>()
      for (const item of res.body.items as KubeObject[]) {
        const obj = { ...item, apiVersion: this.info.apiVersion, kind: this.info.kind }
        const key = keyOf(obj)
        seen.add(key)
        const old = this.objects.get(key)
        this.objects.set(key, obj)
        if (!old) this.onChange('ADDED', obj)
        else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.onChange('MODIFIED', obj, old)
      }
      for (const [key, old] of this.objects) {
        if (!seen.has(key)) {
          this.objects.delete(key)
          this.onChange('DELETED', old)
        }
      }
      this.markSynced()
    } catch (err) {
      this.log(`list ${path} failed: ${(err as Error).message}; again in 1 s`)
      return this.again(1000)
    }
    if (this.stopped) return
    try {
      this.abort = await new Watch(this.client.kc).watch(
        path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
        (phase, apiObj: KubeObject) => {
          if (phase === 'BOOKMARK' || phase === 'ERROR' || !apiObj?.metadata) return
          const obj = { ...apiObj, apiVersion: this.info.apiVersion, kind: this.info.kind }
          const key = keyOf(obj)
          const old = this.objects.get(key)
          if (phase === 'DELETED') {
            this.objects.delete(key)
            this.onChange('DELETED', obj, old)
          } else {
            this.objects.set(key, obj)
            this.onChange(old ? 'MODIFIED' : 'ADDED', obj, old)
          }
        },
        (err) => {
          if (this.stopped) return
          if (err && (err as Error).name !== 'AbortError') this.log(`watch ${path} ended: ${(err as Error).message ?? err}`)
          this.again(err ? 500 : 0)
        },
      )
    } catch (err) {
      this.log(`watch ${path} failed: ${(err as Error).message}; again in 1 s`)
      this.again(1000)
    }
  }
}

/** `namespace/name` of an object (`name` for cluster-scoped ones). */
export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name
}
