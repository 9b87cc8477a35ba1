/** What the bench's load child sends back for each run (shared by load.ts and harness.ts). */
export interface LoadRequest {
  readonly id: number
  readonly url: string
  readonly method: 'POST' | 'GET'
  readonly body?: string
  readonly connections: number
  /** Seconds; ignored when `amount` is set. */
  readonly duration: number
  /** Total requests instead of a duration. */
  readonly amount?: number
}

/** The numbers we keep from an autocannon result. */
export interface LoadSummary {
  readonly id: number
  readonly durationSeconds: number
  readonly requests: number
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly requestsPerSecond: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly latencyMaxMs: number
  /** Bytes received per response (headers included). */
  readonly bytesPerResponse: number
  readonly error?: string
}

/** The summary of a run that could not be made. */
export function failedSummary(id: number, error: string): LoadSummary {
  return {
    id,
    durationSeconds: 0,
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 1,
    timeouts: 0,
    requestsPerSecond: 0,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    latencyMaxMs: 0,
    bytesPerResponse: 0,
    error,
  }
}
