import type { z } from "zod";
import { type Clock, StationError, type TimerHandle, zodErrorMessage } from "../core/index.ts";
import {
  JSON_RPC_INTERNAL_ERROR,
  JSON_RPC_INVALID_PARAMS,
  JSON_RPC_INVALID_REQUEST,
  JSON_RPC_METHOD_NOT_FOUND,
  JSON_RPC_PARSE_ERROR,
  JSON_RPC_SERVER_ERROR,
  type JsonRpcErrorObject,
  type JsonRpcId,
  jsonRpcRequestSchema,
  jsonRpcResponseSchema,
} from "../protocol/index.ts";

/** A JSON-RPC error the other side answered with (or a call that could not complete). */
export class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(error: JsonRpcErrorObject) {
    super(error.message);
    this.name = "JsonRpcError";
    this.code = error.code;
    this.data = error.data;
  }
}

/** A plain `{"type":…}` message: not JSON-RPC, handed to its own handler (identity messages). */
export type PlainMessage = { type: string } & Record<string, unknown>;

export interface JsonRpcPeerDeps {
  /** Writes one text message to the transport. */
  send(text: string): void;
  clock: Clock;
  onPlainMessage(message: PlainMessage): void;
  /** Input that could not be used (answered with an error where it had an id); for counting and logs. */
  onBadMessage?(reason: string): void;
  /** Called once per request served, with its outcome, for metrics. */
  onServed?(method: string, outcome: "ok" | "error"): void;
  /** Per-call default; a call may pass its own. */
  callTimeoutMs?: number;
  /** Requests from the peer being served at once; more are refused, so a peer cannot pile up work. */
  maxInFlight?: number;
}

interface Method {
  params: z.ZodType;
  handle(params: unknown): Promise<unknown> | unknown;
}

interface PendingCall {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: TimerHandle;
}

/** Our error codes carried in `data`, so a cloud can tell DEVICE_OFFLINE from DEVICE_TIMEOUT. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (!(err instanceof StationError) || err.code === "INTERNAL_ERROR")
    return { code: JSON_RPC_INTERNAL_ERROR, message: "internal error", data: { code: "INTERNAL_ERROR" } };
  const data = { code: err.code, ...(err.details === undefined ? {} : { details: err.details }) };
  const code = err.code === "VALIDATION_ERROR" ? JSON_RPC_INVALID_PARAMS : JSON_RPC_SERVER_ERROR;
  return { code, message: err.message, data };
}

/**
 * A JSON-RPC 2.0 peer over any message transport (https://www.jsonrpc.org/specification):
 * serves registered methods, makes calls with per-call timeouts, sends notifications. Batches
 * are refused (-32600); a missing `jsonrpc` field is tolerated (CONTRACT.md section 7).
 * `close()` fails every pending call, so nothing waits on a connection that is gone.
 */
export function createJsonRpcPeer(deps: JsonRpcPeerDeps) {
  const { clock } = deps;
  const methods = new Map<string, Method>();
  const pending = new Map<JsonRpcId, PendingCall>();
  const maxInFlight = deps.maxInFlight ?? 32;
  let nextId = 1;
  let inFlight = 0;
  let closed = false;

  function write(message: Record<string, unknown>) {
    if (!closed) deps.send(JSON.stringify({ jsonrpc: "2.0", ...message }));
  }

  function replyError(id: JsonRpcId | null, error: JsonRpcErrorObject) {
    write({ id, error });
  }

  function bad(reason: string, id: JsonRpcId | null | undefined, code: number) {
    deps.onBadMessage?.(reason);
    // A notification is never answered, not even with an error (section 5 of the spec).
    if (id !== undefined) replyError(id, { code, message: reason });
  }

  async function serve(id: JsonRpcId | undefined, methodName: string, rawParams: unknown) {
    const method = methods.get(methodName);
    if (!method) return bad(`method not found: ${methodName.slice(0, 64)}`, id, JSON_RPC_METHOD_NOT_FOUND);
    const params = method.params.safeParse(rawParams ?? {});
    if (!params.success) {
      deps.onServed?.(methodName, "error");
      return bad(`invalid params: ${zodErrorMessage(params.error, "params")}`, id, JSON_RPC_INVALID_PARAMS);
    }
    if (inFlight >= maxInFlight) {
      deps.onServed?.(methodName, "error");
      const busy = new StationError("RATE_LIMITED", `more than ${maxInFlight} requests at once`);
      if (id !== undefined) replyError(id, toJsonRpcError(busy));
      return;
    }
    inFlight++;
    try {
      const result = await method.handle(params.data);
      deps.onServed?.(methodName, "ok");
      if (id !== undefined) write({ id, result: result ?? null });
    } catch (err) {
      deps.onServed?.(methodName, "error");
      if (id !== undefined) replyError(id, toJsonRpcError(err));
    } finally {
      inFlight--;
    }
  }

  function settle(message: Record<string, unknown>) {
    const parsed = jsonRpcResponseSchema.safeParse(message);
    if (!parsed.success) return bad("invalid response", undefined, JSON_RPC_INVALID_REQUEST);
    const response = parsed.data;
    const call = response.id === null ? undefined : pending.get(response.id);
    if (!call || response.id === null) return deps.onBadMessage?.("response to no pending call");
    pending.delete(response.id);
    clock.clearTimeout(call.timer);
    if ("error" in response) call.reject(new JsonRpcError(response.error));
    else call.resolve(response.result);
  }

  return {
    /** Serves `name`; params are parsed with `params` first (-32602 with the reason if they do not fit). */
    register<S extends z.ZodType>(name: string, params: S, handle: (params: z.infer<S>) => unknown) {
      methods.set(name, { params, handle: handle as Method["handle"] });
    },

    /** One text message from the transport. Never throws: bad input is answered or counted. */
    handleText(text: string) {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return bad("parse error: not JSON", null, JSON_RPC_PARSE_ERROR);
      }
      if (Array.isArray(message)) return bad("batches are not supported", null, JSON_RPC_INVALID_REQUEST);
      if (typeof message !== "object" || message === null)
        return bad("invalid request: not an object", null, JSON_RPC_INVALID_REQUEST);
      const obj = message as Record<string, unknown>;
      if (typeof obj.type === "string" && !("method" in obj) && !("id" in obj)) {
        deps.onPlainMessage(obj as PlainMessage);
        return;
      }
      if ("method" in obj) {
        const request = jsonRpcRequestSchema.safeParse(obj);
        if (!request.success) {
          const id = typeof obj.id === "string" || typeof obj.id === "number" ? obj.id : null;
          return bad("invalid request", id, JSON_RPC_INVALID_REQUEST);
        }
        void serve(request.data.id, request.data.method, request.data.params);
        return;
      }
      if ("result" in obj || "error" in obj) return settle(obj);
      bad("invalid request: neither a request nor a response", null, JSON_RPC_INVALID_REQUEST);
    },

    /** Calls a method on the other side; rejects with JsonRpcError, on timeout, or when closed. */
    call(method: string, params?: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
      if (closed) return Promise.reject(new StationError("UNAVAILABLE", "the connection is closed"));
      const id = nextId++;
      const timeoutMs = options.timeoutMs ?? deps.callTimeoutMs ?? 30_000;
      return new Promise((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          pending.delete(id);
          reject(new StationError("UNAVAILABLE", `${method} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        write({ id, method, ...(params === undefined ? {} : { params }) });
      });
    },

    notify(method: string, params?: unknown): void {
      write({ method, ...(params === undefined ? {} : { params }) });
    },

    get pendingCalls(): number {
      return pending.size;
    },

    /** The transport is gone: every pending call fails now, and nothing more is sent. */
    close(reason = "the connection was lost"): void {
      closed = true;
      for (const call of pending.values()) {
        clock.clearTimeout(call.timer);
        call.reject(new StationError("UNAVAILABLE", reason));
      }
      pending.clear();
    },
  };
}

export type JsonRpcPeer = ReturnType<typeof createJsonRpcPeer>;
