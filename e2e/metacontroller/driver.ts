/**
 * A stand-in for Metacontroller in CI: it runs our CompositeControllers (metacontroller/*.yaml
 * or the ones the Helm chart renders) against any apiserver, for the tiers where the real
 * Metacontroller cannot be built. The kind suite (e2e/kind) keeps the real one.
 *
 * Reproduced from Metacontroller v4.17.2 (pkg/controller/composite, pkg/controller/common):
 * - parents are listed and watched in all namespaces; a change of a parent, or of a child
 *   whose controller ownerReference points at a parent, queues that parent; every parent is
 *   queued again every `resyncPeriodSeconds`, and after `resyncAfterSeconds` when a sync
 *   answer asks for it;
 * - children: every declared childResource, in the parent's namespace, controlled by the
 *   parent (controller ownerReference with its uid) and, with `generateSelector`, labelled
 *   `controller-uid=<parent uid>`; the customize hook (when declared) gives relatedResources
 *   rules (apiVersion, resource, namespace, names, labelSelector.matchLabels), answered per
 *   parent uid and generation as Metacontroller caches them;
 * - the v2 sync request `{controller, parent, children, related, finalizing}`, children and
 *   related grouped under `Kind.version` / `Kind.group/version` (every declared child resource
 *   present, possibly empty) and keyed `namespace/name`; POSTed to the webhook `url` or
 *   `service` + `path` with its `timeout`, with `Authorization: Bearer` read from the
 *   webhook's `authorization.secretRef` when declared;
 * - a 200 answer is decoded strictly (only status, children, resyncAfterSeconds, finalized);
 *   desired children get the parent's namespace and, with generateSelector, the controller-uid
 *   label; a child whose labels miss the parent's selector fails the whole sync; observed
 *   children missing from the answer are deleted (background propagation, uid precondition,
 *   children already being deleted are skipped); missing ones are created with the
 *   `metacontroller.k8s.io/last-applied-configuration` annotation and a controller
 *   ownerReference (blockOwnerDeletion); existing ones are updated with the InPlace rule
 *   (3-way merge on the last-applied annotation, system metadata and status put back, PUT
 *   only when the result differs from the observed object; the pure rule is in ./apply.ts;
 *   each PUT is logged as "Updating" with the paths that differ, and counted);
 *   `OnDelete` children are never updated; NotFound/Conflict/AlreadyExists are swallowed;
 *   `status` replaces the parent's status through `/status`, with `observedGeneration`, and
 *   is not written when equal;
 * - any other answer, a timeout or an undecodable body: nothing is applied, deleted or
 *   written, a Warning Event `SyncError` ("Sync error: ...") is recorded on the parent (repeats
 *   counted on the same Event, as client-go's recorder aggregates them) and the parent is
 *   retried with per-parent exponential backoff (client-go's 5 ms doubling by default, cap
 *   configurable); HTTP 429 with Retry-After is retried after that delay, not as a failure.
 *
 * Left out (our controllers do not use them, or tests do not need them): finalize hooks and
 * finalizers (our controllers declare none, so `finalizing` is always false), adoption of
 * orphans and release of children whose labels stop matching, Recreate/RollingRecreate/
 * RollingInPlace update methods, server-side apply, v1 hooks, DecoratorControllers,
 * ControllerRevisions, https webhooks with caBundle, parentResource label selectors, watches
 * on related objects (a changed related object is seen at the next sync or resync, not at
 * once), the client rate limit, and the 30 min cache flush.
 */
import { readFileSync } from 'node:fs'
import type { KubeConfig } from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { KubeClient, type ResourceInfo, messageOf, resourcePath } from './kube-client.js'
import { ListWatch, keyOf } from './list-watch.js'
import { LAST_APPLIED_ANNOTATION, applyDesired, defaultNamespace, diffPaths, forCreate, jsonEqual, type Json as JsonValue } from './apply.js'

type Json = Record<string, any>

/** A webhook as a CompositeController declares it. */
export interface Webhook {
  url?: string
  path?: string
  timeout?: string
  service?: { name: string; namespace: string; port?: number; protocol?: string }
  authorization?: { type?: string; secretRef?: { name: string; namespace: string; key: string } }
}

/** The parts of a CompositeController the driver reads. */
export interface CompositeController {
  apiVersion: string
  kind: 'CompositeController'
  metadata: { name: string; [k: string]: unknown }
  spec: {
    generateSelector?: boolean
    resyncPeriodSeconds?: number
    parentResource: { apiVersion: string; resource: string }
    childResources: { apiVersion: string; resource: string; updateStrategy?: { method?: string } }[]
    hooks: {
      sync: { version?: string; webhook: Webhook }
      customize?: { version?: string; webhook: Webhook }
      finalize?: unknown
    }
  }
}

/** How the driver reaches webhooks declared with a `service`. */
export type HookAccess =
  /** `base` replaces scheme, host and port: `${base}${path}` (a hook server listening in-process). */
  | { kind: 'url'; base: string }
  /** The Service's ClusterIP (from the apiserver) and port: the driver runs on a cluster node. */
  | { kind: 'cluster-ip' }
  /** The apiserver's service proxy; the apiserver strips `Authorization`, so no bearer tokens. */
  | { kind: 'apiserver-proxy' }

export interface DriverOptions {
  kubeConfig: KubeConfig
  controllers: CompositeController[]
  hookAccess?: HookAccess
  /** Replaces every controller's resyncPeriodSeconds (tests use short periods). */
  resyncPeriodSeconds?: number
  /** First retry delay after a failed sync (default 5 ms, as client-go's default rate limiter). */
  backoffBaseMs?: number
  /** Longest retry delay (default 60 s; client-go's is 1000 s). */
  backoffMaxMs?: number
  /** Concurrent syncs per controller (default 5, as Metacontroller's workers). */
  workers?: number
  log?: (message: string) => void
}

/** One child update (a PUT), with the paths that differed. */
export interface UpdateRecord {
  controller: string
  parent: string
  child: string
  diff: string[]
  at: number
}

/** What the driver did, for tests to assert on. */
export interface DriverStats {
  /** Sync hook calls by parent (`Kind ns/name`). */
  syncs: Map<string, number>
  /** Successful syncs by parent. */
  applied: Map<string, number>
  /** Failed syncs by parent (hook errors, invalid answers, apply errors). */
  errors: Map<string, number>
  /** Child updates (PUTs), in order. */
  updates: UpdateRecord[]
  /** Children created / deleted (`Kind ns/name`). */
  creates: string[]
  deletes: string[]
  /** Last error message by parent. */
  lastError: Map<string, string>
}

/** A running driver. */
export interface Driver {
  stats: DriverStats
  /** Queues every parent of every controller now. */
  resyncAll(): void
  /** Resolves when no sync is queued or running (delayed resyncs do not count). */
  idle(timeoutMs?: number): Promise<void>
  /** Number of child updates (PUTs) so far. */
  updateCount(): number
  stop(): Promise<void>
}

/** CompositeControllers in YAML files (other documents are ignored). */
export function readControllers(...files: string[]): CompositeController[] {
  return files.flatMap((f) => controllersIn(parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS())))
}

/** The CompositeControllers among objects (e.g. a rendered Helm chart). */
export function controllersIn(objects: unknown[]): CompositeController[] {
  return objects.filter(
    (o): o is CompositeController =>
      typeof o === 'object' && o !== null && (o as Json).kind === 'CompositeController' && (o as Json).apiVersion === 'metacontroller.k8s.io/v1alpha1',
  )
}

/** Parses a Go duration as Metacontroller's webhook timeout ("10s", "1m30s", "500ms"). */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g
  let total = 0
  let matched = ''
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
    matched += m[0]
  }
  return matched === text ? total : fallbackMs
}

class SyncFailure extends Error {}

class TooManyRequests extends Error {
  constructor(readonly afterSeconds: number) {
    super(`hook answered 429, retry after ${afterSeconds} s`)
  }
}

/** Starts the driver: resolves once every controller has listed its parents and children. */
export async function startDriver(opts: DriverOptions): Promise<Driver> {
  const client = new KubeClient(opts.kubeConfig)
  const log = opts.log ?? (() => {})
  const stats: DriverStats = { syncs: new Map(), applied: new Map(), errors: new Map(), updates: [], creates: [], deletes: [], lastError: new Map() }
  const runners: ControllerRunner[] = []
  try {
    for (const cc of opts.controllers) {
      const runner = new ControllerRunner(cc, client, opts, stats, log)
      runners.push(runner)
      await runner.start()
    }
  } catch (err) {
    for (const r of runners) r.stop()
    client.close()
    throw err
  }
  return {
    stats,
    resyncAll: () => {
      for (const r of runners) r.enqueueAll()
    },
    updateCount: () => stats.updates.length,
    async idle(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      // Twice in a row idle, a little apart: watch events of our own writes arrive just after.
      let quiet = 0
      while (quiet < 2) {
        if (Date.now() > deadline) throw new Error(`driver not idle after ${timeoutMs} ms`)
        await sleep(150)
        quiet = runners.every((r) => r.isIdle()) ? quiet + 1 : 0
      }
    },
    async stop() {
      for (const r of runners) r.stop()
      await Promise.all(runners.map((r) => r.drained()))
      client.close()
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One CompositeController: informers, a work queue with backoff, and the sync of one parent. */
class ControllerRunner {
  private parentInfo!: ResourceInfo
  private children: { info: ResourceInfo; method: string; watch: ListWatch }[] = []
  private parents!: ListWatch
  private readonly queue = new Set<string>()
  private readonly processing = new Set<string>()
  private readonly dirty = new Set<string>()
  private readonly failures = new Map<string, number>()
  private readonly delayed = new Map<string, NodeJS.Timeout>()
  private readonly customizeCache = new Map<string, Json[]>()
  private readonly events = new Map<string, { name: string; count: number }>()
  private resyncTimer: NodeJS.Timeout | undefined
  private active = 0
  private stopped = false
  private readonly workers: number
  private readonly name: string

  constructor(
    private readonly cc: CompositeController,
    private readonly client: KubeClient,
    private readonly opts: DriverOptions,
    private readonly stats: DriverStats,
    private readonly log: (message: string) => void,
  ) {
    this.workers = opts.workers ?? 5
    this.name = cc.metadata.name
  }

  async start(): Promise<void> {
    const spec = this.cc.spec
    if (spec.hooks.sync.version !== 'v2') throw new Error(`${this.name}: the driver speaks only v2 sync hooks`)
    if (spec.hooks.finalize) throw new Error(`${this.name}: finalize hooks are not implemented by the driver`)
    this.parentInfo = await this.client.resource(spec.parentResource.apiVersion, spec.parentResource.resource)
    for (const c of spec.childResources) {
      const info = await this.client.resource(c.apiVersion, c.resource)
      const watch = new ListWatch(this.client, info, (_kind, obj) => this.onChild(obj), this.log)
      this.children.push({ info, method: c.updateStrategy?.method ?? 'OnDelete', watch })
    }
    this.parents = new ListWatch(this.client, this.parentInfo, (_kind, obj) => this.enqueue(keyOf(obj)), this.log)
    await Promise.all([...this.children.map((c) => c.watch.start()), this.parents.start()])
    const period = this.opts.resyncPeriodSeconds ?? spec.resyncPeriodSeconds
    if (period && period > 0) {
      this.resyncTimer = setInterval(() => this.enqueueAll(), period * 1000)
    }
    this.enqueueAll()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.resyncTimer)
    for (const t of this.delayed.values()) clearTimeout(t)
    this.delayed.clear()
    this.queue.clear()
    this.parents?.stop()
    for (const c of this.children) c.watch.stop()
  }

  async drained(): Promise<void> {
    while (this.active > 0) await sleep(50)
  }

  isIdle(): boolean {
    return this.queue.size === 0 && this.processing.size === 0 && this.active === 0
  }

  enqueueAll(): void {
    for (const key of this.parents.objects.keys()) this.enqueue(key)
  }

  private onChild(obj: KubeObject): void {
    const ref = (obj.metadata.ownerReferences as Json[] | undefined)?.find((r) => r.controller === true)
    if (!ref || ref.kind !== this.parentInfo.kind || group(ref.apiVersion) !== group(this.parentInfo.apiVersion)) return
    const key = obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name
    const parent = this.parents.objects.get(key)
    if (parent && parent.metadata.uid === ref.uid) this.enqueue(key)
  }

  private enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return
    clearTimeout(this.delayed.get(key))
    this.delayed.set(
      key,
      setTimeout(() => {
        this.delayed.delete(key)
        this.enqueue(key)
      }, ms),
    )
  }

  private enqueue(key: string): void {
    if (this.stopped) return
    if (this.processing.has(key)) {
      this.dirty.add(key)
      return
    }
    this.queue.add(key)
    this.pump()
  }

  private pump(): void {
    while (!this.stopped && this.active < this.workers) {
      const key = [...this.queue].find((k) => !this.processing.has(k))
      if (key === undefined) return
      this.queue.delete(key)
      this.processing.add(key)
      this.active++
      void this.process(key).finally(() => {
        this.active--
        this.processing.delete(key)
        if (this.dirty.delete(key)) this.queue.add(key)
        this.pump()
      })
    }
  }

  private async process(key: string): Promise<void> {
    const parent = this.parents.objects.get(key)
    if (!parent) return
    const label = `${this.parentInfo.kind} ${key}`
    try {
      await this.sync(parent, label)
      this.failures.delete(key)
      bump(this.stats.applied, label)
    } catch (err) {
      if (err instanceof TooManyRequests) {
        this.log(`${label}: ${err.message}`)
        this.enqueueAfter(key, err.afterSeconds * 1000)
        return
      }
      const message = (err as Error).message
      bump(this.stats.errors, label)
      this.stats.lastError.set(label, message)
      this.log(`${label}: sync error: ${message}`)
      await this.recordSyncError(parent, message).catch((e: Error) => this.log(`${label}: event not recorded: ${e.message}`))
      const n = (this.failures.get(key) ?? 0) + 1
      this.failures.set(key, n)
      const base = this.opts.backoffBaseMs ?? 5
      this.enqueueAfter(key, Math.min(base * 2 ** (n - 1), this.opts.backoffMaxMs ?? 60_000))
    }
  }

  /** The sync of one parent, as Metacontroller's syncParentObject does it. */
  private async sync(parent: KubeObject, label: string): Promise<void> {
    const ns = parent.metadata.namespace ?? ''
    const uid = parent.metadata.uid as string
    const selector = this.selectorOf(parent)

    // Observed children, grouped and keyed as in a v2 request.
    const observed: Record<string, Record<string, KubeObject>> = {}
    for (const c of this.children) {
      const group: Record<string, KubeObject> = {}
      for (const obj of c.watch.inNamespace(ns)) {
        const ref = (obj.metadata.ownerReferences as Json[] | undefined)?.find((r) => r.controller === true)
        if (ref?.uid === uid && selects(selector, obj.metadata.labels)) group[keyOf(obj)] = obj
      }
      observed[groupKey(c.info)] = group
    }
    const related = await this.related(parent, label)

    bump(this.stats.syncs, label)
    const answer = await this.callHook(this.cc.spec.hooks.sync.webhook, {
      controller: this.cc,
      parent,
      children: observed,
      related,
      finalizing: false,
    })
    const response = decodeSyncResponse(answer)

    // Desired children: the parent's namespace, the generated selector's label.
    const desired = new Map<string, KubeObject>()
    for (const child of response.children) {
      if (!child.metadata?.name) throw new SyncFailure(`a desired ${child.kind} has no metadata.name`)
      const copy = (this.parentInfo.namespaced ? defaultNamespace(child, ns) : JSON.parse(JSON.stringify(child))) as unknown as KubeObject
      if (this.cc.spec.generateSelector) {
        copy.metadata.labels = { ...(copy.metadata.labels ?? {}) }
        if (!('controller-uid' in copy.metadata.labels)) copy.metadata.labels['controller-uid'] = uid
      }
      if (!selects(selector, copy.metadata.labels)) {
        throw new SyncFailure(`labels on desired child ${copy.kind} ${copy.metadata.namespace}/${copy.metadata.name} don't match parent selector`)
      }
      desired.set(`${groupKeyOf(copy)}|${keyOf(copy)}`, copy)
    }

    const errors: string[] = []
    if (!parent.metadata.deletionTimestamp) {
      // Delete observed children that are not desired.
      for (const c of this.children) {
        for (const [k, obj] of Object.entries(observed[groupKey(c.info)] ?? {})) {
          if (obj.metadata.deletionTimestamp || desired.has(`${groupKey(c.info)}|${k}`)) continue
          const res = await this.client.request('DELETE', resourcePath(c.info, obj.metadata.namespace, obj.metadata.name), {
            propagationPolicy: 'Background',
            preconditions: { uid: obj.metadata.uid },
          })
          if (res.status === 200 || res.status === 202) {
            this.stats.deletes.push(`${c.info.kind} ${k}`)
            this.log(`${label}: Deleting child ${c.info.kind} ${k}`)
          } else if (res.status !== 404) errors.push(`can't delete ${c.info.kind} ${k}: ${messageOf(res)}`)
        }
      }
      // Create or update desired children.
      for (const want of desired.values()) {
        const c = this.children.find((x) => groupKey(x.info) === groupKeyOf(want))
        if (!c) {
          errors.push(`${want.kind} ${want.apiVersion} is not a declared child resource`)
          continue
        }
        const name = keyOf(want)
        const have = observed[groupKey(c.info)]?.[name]
        if (have) {
          const { merged, changed } = applyDesired(have, want)
          if (!changed || have.metadata.deletionTimestamp || c.method !== 'InPlace') continue
          const diff = diffPaths(have as unknown as JsonValue, merged).filter((d) => !d.includes(LAST_APPLIED_ANNOTATION))
          this.stats.updates.push({ controller: this.name, parent: label, child: `${want.kind} ${name}`, diff, at: Date.now() })
          this.log(`${label}: Updating ${want.kind} ${name}: ${diff.join('; ') || 'last-applied annotation'}`)
          const res = await this.client.request('PUT', resourcePath(c.info, want.metadata.namespace, want.metadata.name), merged)
          if (res.status !== 200 && res.status !== 404 && res.status !== 409) errors.push(`can't update ${want.kind} ${name}: ${messageOf(res)}`)
        } else {
          const res = await this.client.request('POST', resourcePath(c.info, want.metadata.namespace), forCreate(want, parent))
          if (res.status === 201) {
            this.stats.creates.push(`${want.kind} ${name}`)
            this.log(`${label}: Creating ${want.kind} ${name}`)
          } else if (res.status !== 409) errors.push(`can't create ${want.kind} ${name}: ${messageOf(res)}`)
        }
      }
    }

    // Status through /status, with observedGeneration; not written when equal.
    const status = { ...(response.status ?? {}), observedGeneration: parent.metadata.generation }
    if (!jsonEqual(parent.status as JsonValue | undefined, status as JsonValue)) {
      const res = await this.client.request('PUT', `${resourcePath(this.parentInfo, ns, parent.metadata.name)}/status`, { ...parent, status })
      if (res.status !== 200 && res.status !== 404 && res.status !== 409) errors.push(`can't update status: ${messageOf(res)}`)
    }
    if (response.resyncAfterSeconds && response.resyncAfterSeconds > 0) this.enqueueAfter(keyOf(parent), response.resyncAfterSeconds * 1000)
    if (errors.length > 0) throw new SyncFailure(`can't reconcile children for ${label}: ${errors.join('; ')}`)
  }

  /** The generated selector (controller-uid) or the parent's spec.selector.matchLabels. */
  private selectorOf(parent: KubeObject): Record<string, string> {
    if (this.cc.spec.generateSelector) return { 'controller-uid': parent.metadata.uid as string }
    const sel = (parent.spec as Json | undefined)?.selector
    if (!sel?.matchLabels || Object.keys(sel.matchLabels).length === 0 || sel.matchExpressions) {
      throw new SyncFailure('.spec.selector must have matchLabels (matchExpressions are not implemented by the driver)')
    }
    return sel.matchLabels as Record<string, string>
  }

  /** Related objects from the customize hook's rules, cached per parent uid and generation. */
  private async related(parent: KubeObject, label: string): Promise<Record<string, Record<string, KubeObject>>> {
    const hook = this.cc.spec.hooks.customize
    if (!hook) return {}
    const cacheKey = `${parent.metadata.uid}/${parent.metadata.generation}`
    let rules = this.customizeCache.get(cacheKey)
    if (!rules) {
      const answer = await this.callHook(hook.webhook, { controller: this.cc, parent })
      if (answer.status !== 200) throw new SyncFailure(`customize hook answered ${answer.status}: ${answer.text.slice(0, 300)}`)
      const body = parseJson(answer.text, 'customize hook')
      rules = Array.isArray(body.relatedResources) ? (body.relatedResources as Json[]) : []
      this.customizeCache.set(cacheKey, rules)
    }
    const out: Record<string, Record<string, KubeObject>> = {}
    for (const rule of rules) {
      const info = await this.client.resource(rule.apiVersion, rule.resource)
      const ns = this.parentInfo.namespaced ? parent.metadata.namespace : rule.namespace
      const res = await this.client.request('GET', resourcePath(info, ns))
      if (res.status !== 200) throw new SyncFailure(`can't list related ${rule.resource}: ${messageOf(res)}`)
      const group = (out[groupKey(info)] ??= {})
      const names: string[] | undefined = Array.isArray(rule.names) && rule.names.length > 0 ? rule.names : undefined
      const match: Record<string, string> | undefined = rule.labelSelector?.matchLabels
      for (const item of res.body.items as KubeObject[]) {
        const obj = { ...item, apiVersion: info.apiVersion, kind: info.kind }
        if (names && !names.includes(obj.metadata.name)) continue
        if (match && !selects(match, obj.metadata.labels)) continue
        group[keyOf(obj)] = obj
      }
    }
    void label
    return out
  }

  /** POSTs a hook request; resolves to the status and body text. */
  private async callHook(webhook: Webhook, body: unknown): Promise<{ status: number; text: string }> {
    const url = await this.hookUrl(webhook)
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    const auth = webhook.authorization
    if (auth?.secretRef) headers.Authorization = `Bearer ${await this.secretValue(auth.secretRef)}`
    let res: Response
    try {
      if (url.startsWith(this.client.server)) {
        const path = url.slice(this.client.server.length)
        const answer = await this.client.request('POST', path, body)
        return { status: answer.status, text: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body) }
      }
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(parseDuration(webhook.timeout, 10_000)) })
    } catch (err) {
      throw new SyncFailure(
        `sync hook failed: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`,
      )
    }
    const text = await res.text()
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after'))
      if (Number.isFinite(after) && after > 0) throw new TooManyRequests(after)
    }
    return { status: res.status, text }
  }

  private async hookUrl(webhook: Webhook): Promise<string> {
    if (webhook.url) return webhook.url
    const svc = webhook.service
    if (!svc) throw new SyncFailure('webhook has neither url nor service')
    const path = webhook.path ?? ''
    const access = this.opts.hookAccess ?? { kind: 'cluster-ip' }
    if (access.kind === 'url') return `${access.base.replace(/\/$/, '')}${path}`
    const port = svc.port ?? 80
    if (access.kind === 'apiserver-proxy') {
      if (webhook.authorization) throw new SyncFailure('the apiserver proxy drops Authorization: use hookAccess cluster-ip or url with bearer tokens')
      const scheme = svc.protocol === 'https' ? 'https' : 'http'
      return `${this.client.server}/api/v1/namespaces/${svc.namespace}/services/${scheme}:${svc.name}:${port}/proxy${path}`
    }
    const res = await this.client.request('GET', `/api/v1/namespaces/${svc.namespace}/services/${svc.name}`)
    if (res.status !== 200) throw new SyncFailure(`hook Service ${svc.namespace}/${svc.name}: ${messageOf(res)}`)
    return `${svc.protocol === 'https' ? 'https' : 'http'}://${res.body.spec.clusterIP}:${port}${path}`
  }

  private async secretValue(ref: { name: string; namespace: string; key: string }): Promise<string> {
    const res = await this.client.request('GET', `/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`)
    if (res.status !== 200) throw new SyncFailure(`webhook authorization Secret ${ref.namespace}/${ref.name}: ${messageOf(res)}`)
    const value = res.body.data?.[ref.key]
    if (typeof value !== 'string') throw new SyncFailure(`webhook authorization Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`)
    return Buffer.from(value, 'base64').toString('utf8')
  }

  /** A Warning Event SyncError on the parent; repeats of one message count on one Event. */
  private async recordSyncError(parent: KubeObject, message: string): Promise<void> {
    const ns = parent.metadata.namespace ?? 'default'
    const text = `Sync error: ${message}`.slice(0, 1024)
    const key = `${parent.metadata.uid}|${text}`
    const now = new Date().toISOString()
    const seen = this.events.get(key)
    if (seen) {
      seen.count++
      const res = await this.client.request(
        'PATCH',
        `/api/v1/namespaces/${ns}/events/${seen.name}`,
        { count: seen.count, lastTimestamp: now },
        'application/merge-patch+json',
      )
      if (res.status === 200) return
    }
    const res = await this.client.request('POST', `/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${parent.metadata.name}.`, namespace: ns },
      involvedObject: {
        apiVersion: parent.apiVersion,
        kind: parent.kind,
        name: parent.metadata.name,
        namespace: ns,
        uid: parent.metadata.uid,
        resourceVersion: parent.metadata.resourceVersion,
      },
      reason: 'SyncError',
      message: text,
      type: 'Warning',
      source: { component: 'metacontroller' },
      reportingComponent: 'metacontroller',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    })
    if (res.status !== 201) throw new Error(`${res.status} ${messageOf(res)}`)
    this.events.set(key, { name: res.body.metadata.name, count: 1 })
  }
}

/** The decoded v2 sync answer; anything else is a sync error. */
function decodeSyncResponse(answer: { status: number; text: string }): { status?: Json; children: KubeObject[]; resyncAfterSeconds?: number } {
  if (answer.status !== 200) throw new SyncFailure(`sync hook answered ${answer.status}: ${answer.text.slice(0, 500)}`)
  const body = parseJson(answer.text, 'sync hook')
  for (const field of Object.keys(body)) {
    if (!['status', 'children', 'resyncAfterSeconds', 'finalized'].includes(field)) throw new SyncFailure(`sync hook answer: unknown field "${field}"`)
  }
  const children = body.children ?? []
  if (!Array.isArray(children) || children.some((c) => typeof c !== 'object' || c === null || !c.apiVersion || !c.kind)) {
    throw new SyncFailure('sync hook answer: children must be objects with apiVersion and kind')
  }
  if (body.status !== undefined && body.status !== null && (typeof body.status !== 'object' || Array.isArray(body.status))) {
    throw new SyncFailure('sync hook answer: status must be an object')
  }
  return { status: body.status ?? undefined, children, resyncAfterSeconds: typeof body.resyncAfterSeconds === 'number' ? body.resyncAfterSeconds : undefined }
}

function parseJson(text: string, what: string): Json {
  try {
    const v = JSON.parse(text)
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json
  } catch {
    // below
  }
  throw new SyncFailure(`${what} answer is not a JSON object: ${text.slice(0, 200)}`)
}

/** `Kind.version` (core group) or `Kind.group/version`. */
function groupKey(info: ResourceInfo): string {
  return `${info.kind}.${info.apiVersion}`
}

function groupKeyOf(obj: KubeObject): string {
  return `${obj.kind}.${obj.apiVersion}`
}

function group(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : ''
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v)
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}
