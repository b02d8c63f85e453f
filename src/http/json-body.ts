import { StationError } from "../core/index.ts";

export const API_BODY_LIMIT = 64 * 1024;

const tooLarge = () => new StationError("PAYLOAD_TOO_LARGE", `request body over ${API_BODY_LIMIT} bytes`);

/** Reads a body as it streams and stops at the limit, so a huge chunked body is never held whole. */
async function readLimited(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > API_BODY_LIMIT) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

const isJson = (contentType: string | null) => /^application\/json\s*(;|$)/i.test((contentType ?? "").trim());

/**
 * Every API body is JSON sent as `application/json` (CONTRACT.md section 2): any other type is
 * 415, so another site cannot post a simple form or `text/plain` request to the API without a
 * CORS preflight. Bodies are parsed here, so malformed JSON is always a PARSE_ERROR and an
 * oversized body a PAYLOAD_TOO_LARGE, before any route sees it.
 */
export async function normalizeJsonBody(request: Request): Promise<Request> {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "DELETE") return request;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > API_BODY_LIMIT) throw tooLarge();
  const contentType = request.headers.get("content-type");
  // A body-less POST (sign out) needs no type; anything with a body must say it is JSON.
  if (contentType !== null && !isJson(contentType)) throw unsupported(contentType);
  const text = await readLimited(request);
  if (text.trim() !== "") {
    if (contentType === null) throw unsupported("none");
    try {
      JSON.parse(text);
    } catch {
      throw new StationError("PARSE_ERROR", "request body is not valid JSON");
    }
  }
  const headers = new Headers(request.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Request(request.url, { method: request.method, headers, body: text === "" ? "{}" : text });
}

function unsupported(contentType: string) {
  return new StationError(
    "UNSUPPORTED_MEDIA_TYPE",
    `request bodies must be JSON sent with Content-Type: application/json (got ${contentType})`,
  );
}
