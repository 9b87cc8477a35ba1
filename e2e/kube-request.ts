/**
 * One HTTPS request to a kube-apiserver with a kubeconfig's credentials: JSON in, JSON (or
 * text) out, never throwing on an HTTP error status, only on transport failures. Objects go out
 * as the apiserver's own JSON (client-node's typed serializers drop fields they know only by
 * their TypeScript names). Used by the real-apiserver tier (e2e/apiserver) and by the
 * Metacontroller driver and the scenarios (e2e/metacontroller/kube-client.ts).
 */
import { type Agent, request, type RequestOptions } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'

/** An answer of the apiserver. */
export interface KubeAnswer {
  status: number
  body: any
  headers: Record<string, string | string[] | undefined>
}

export interface KubeRequestOptions {
  /** Sent as JSON, always with a Content-Length. */
  readonly body?: unknown
  /** Added to the request; they win over the defaults (e.g. a patch's Content-Type). */
  readonly headers?: Record<string, string>
  /** A keep-alive agent to reuse connections (default: a new connection per request). */
  readonly agent?: Agent
  /** The answer must have started within this many milliseconds (default 30 000). */
  readonly timeoutMs?: number
}

export async function kubeRequest(kc: KubeConfig, method: string, path: string, opts: KubeRequestOptions = {}): Promise<KubeAnswer> {
  const server = kc.getCurrentCluster()?.server
  if (!server) throw new Error('kubeconfig has no current cluster')
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const options: RequestOptions = { method, headers: { Accept: 'application/json' } }
  await kc.applyToHTTPSOptions(options)
  if (opts.agent) options.agent = opts.agent
  // Content-Length always: Node sends a DELETE body neither chunked nor sized, so the
  // apiserver would read it as the start of the next request on a kept-alive connection.
  options.headers = {
    ...options.headers,
    ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
    ...opts.headers,
  }
  const timeoutMs = opts.timeoutMs ?? 30_000
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        let parsed: unknown = text
        try {
          parsed = JSON.parse(text)
        } catch {
          // not JSON (e.g. a plain-text error): keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers })
      })
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs / 1000} s`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** The message of an apiserver Status (or the raw body). */
export function messageOf(answer: Pick<KubeAnswer, 'body'>): string {
  const b = answer.body
  return typeof b === 'object' && b !== null && typeof b.message === 'string' ? b.message : JSON.stringify(b)
}
