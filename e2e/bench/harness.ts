/** Shared pieces of the benchmark and the soak: the in-process server, the load child, RSS. */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../../hooks/server.js'
import { BENCH_CONFIG } from './cases.js'
import { failedSummary, type LoadRequest, type LoadSummary } from './summary.js'

/**
 * The hook server as main.ts builds it (minus the logger), plus the empty ceiling route: a
 * Fastify route that parses the same JSON bodies (the server's own parser) and answers {}.
 */
export async function startServer(): Promise<{ app: FastifyInstance; base: string }> {
  const app = buildServer({ config: BENCH_CONFIG, logger: false })
  app.post('/bench/empty', async () => ({}))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { app, base: `http://127.0.0.1:${port}` }
}

/** A forked autocannon process: run() sends one run and resolves with its summary. */
export class LoadChild {
  private readonly child: ChildProcess
  private next = 1
  private readonly waiting = new Map<number, (s: LoadSummary) => void>()

  constructor() {
    this.child = fork(fileURLToPath(new URL('./load.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (s: LoadSummary) => {
      this.waiting.get(s.id)?.(s)
      this.waiting.delete(s.id)
    })
    this.child.on('exit', (code) => {
      for (const [id, resolve] of this.waiting) resolve(failedSummary(id, `load generator exited with ${code}`))
      this.waiting.clear()
    })
  }

  run(req: Omit<LoadRequest, 'id'>): Promise<LoadSummary> {
    const id = this.next++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.child.send({ ...req, id })
    })
  }

  close(): void {
    if (this.child.connected) this.child.send('exit')
  }
}

export const MB = 1024 * 1024

/** Resident set size of this process, in MiB. */
export function rssMb(): number {
  return process.memoryUsage().rss / MB
}

/** Samples RSS every `ms` until stopped; returns the peak in MiB. */
export function sampleRss(ms = 50): () => number {
  let peak = rssMb()
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb())
  }, ms)
  return () => {
    clearInterval(timer)
    return Math.max(peak, rssMb())
  }
}

/** Runs a full GC when node was started with --expose-gc (twice: weak refs, finalizers). */
export function forceGc(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) return false
  gc()
  gc()
  return true
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits
