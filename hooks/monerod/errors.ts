/**
 * Errors thrown by {@link MonerodClient}. All extend {@link MonerodError}, which names the
 * URL and the RPC method so a log line is enough to tell which node and call failed.
 */

/** Base class: something went wrong talking to monerod. */
export class MonerodError extends Error {
  constructor(
    message: string,
    /** Full URL requested (without credentials). */
    readonly url: string,
    /** JSON-RPC method name, or the plain endpoint path such as "/get_height". */
    readonly method: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** monerod answered with a JSON-RPC `error` object (e.g. code -32601 "Method not found"). */
export class MonerodRpcError extends MonerodError {
  constructor(
    url: string,
    method: string,
    /** JSON-RPC error code as sent by monerod (negative numbers, see core_rpc_server_error_codes.h). */
    readonly code: number,
    /** The error message monerod sent. */
    readonly rpcMessage: string,
  ) {
    super(`monerod ${method} at ${url} failed: RPC error ${code}: ${rpcMessage}`, url, method)
  }
}

/**
 * monerod answered but its `status` field is not "OK": "BUSY" while the core is syncing, or a
 * failure text such as "Failed" / "Error: …".
 */
export class MonerodStatusError extends MonerodError {
  constructor(
    url: string,
    method: string,
    /** The status text monerod sent. */
    readonly status: string,
  ) {
    super(`monerod ${method} at ${url} answered status "${status}"`, url, method)
  }

  /** True when monerod said BUSY (try again later; the node is syncing or starting). */
  get busy(): boolean {
    return this.status === 'BUSY'
  }
}

/** A non-2xx HTTP status (401 after authentication failed, 404 unknown endpoint, …). */
export class MonerodHttpError extends MonerodError {
  constructor(
    url: string,
    method: string,
    /** HTTP status code. */
    readonly status: number,
    /** First bytes of the response body, for diagnostics. */
    readonly body: string,
  ) {
    super(`monerod ${method} at ${url} answered HTTP ${status}`, url, method)
  }
}

/** No complete answer within the time budget. */
export class MonerodTimeoutError extends MonerodError {
  constructor(
    url: string,
    method: string,
    /** The budget that was exceeded, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(`monerod ${method} at ${url} timed out after ${timeoutMs} ms`, url, method)
  }
}

/** The TCP connection failed (refused, reset, DNS, …) before an HTTP answer arrived. */
export class MonerodConnectionError extends MonerodError {
  constructor(
    url: string,
    method: string,
    /** Node's error code when known, e.g. "ECONNREFUSED". */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const detail = code ?? (cause instanceof Error ? cause.message : String(cause))
    super(`monerod ${method} at ${url}: connection failed (${detail})`, url, method, { cause })
  }
}

/** The answer was not the JSON the method promises. */
export class MonerodResponseError extends MonerodError {
  constructor(url: string, method: string, detail: string) {
    super(`monerod ${method} at ${url}: invalid response: ${detail}`, url, method)
  }
}
