import type { HookConfig } from './config.js'

/** What a sync function gets besides the request: configuration and the time of the call. */
export interface SyncContext {
  readonly config: HookConfig
  /** RFC 3339 time used only to stamp conditions that flip. */
  readonly now: string
}
