/**
 * The web app's REST calls: the session's bearer token on every request, the station's error
 * body (CONTRACT.md section 2) turned into an ApiError, and a 401 on a signed-in request
 * handed to the session (it signs out: the token was revoked or expired).
 */
import type { z } from "zod";
import { errorBodySchema } from "../../protocol/index.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const TOKEN_KEY = "opengenie.token";
let unauthorized: (message: string) => void = () => {};

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function onUnauthorized(handler: (message: string) => void) {
  unauthorized = handler;
}

interface CallOptions<T> {
  method?: string;
  body?: unknown;
  schema?: z.ZodType<T>;
}

/** Calls the API; resolves the parsed body (undefined for 204), rejects with an ApiError. */
export async function api<T = unknown>(path: string, options: CallOptions<T> = {}): Promise<T> {
  const bearer = token.get();
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers: {
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "The station cannot be reached; check that it is running.");
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const parsed = errorBodySchema.safeParse(body);
    const error = parsed.success
      ? new ApiError(res.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.details)
      : new ApiError(res.status, "HTTP", `the station answered ${res.status}`);
    if (res.status === 401 && bearer) unauthorized("Your session ended; sign in again.");
    throw error;
  }
  if (options.schema) return options.schema.parse(body);
  return body as T;
}

/** The message to show for a failed call. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
