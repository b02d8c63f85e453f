import { createHash } from "node:crypto";
import type { EmbeddedFiles } from "../platform/index.ts";

/** The web app's files, which the executable carries (`platform.embedded`). */
export type WebAppFiles = Pick<EmbeddedFiles, "webAppHtml" | "webAppScript">;

/**
 * The embedded web app: src/http/web/app.html and its script, src/http/web/app.ts bundled for
 * browsers (`bun build.ts --web`). Served for every path outside /api, /ws*, /driver and
 * /metrics, with index.html for unknown paths so client-side routes survive a reload.
 */
const common = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/**
 * Scripts only from the station itself and never `eval` (the bundle's zod runs jitless:
 * src/protocol/zod-jitless.ts); inline styles for the page's own <style>; API and /ws on this
 * origin; nothing may frame the page, and no plugin, base or foreign form target (issue 15).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** One file as served: its bytes, gzipped once, and an ETag, made on the first request. */
interface Prepared {
  body: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
  etag: string;
}
const prepared = new WeakMap<WebAppFiles, Promise<{ html: Prepared; script: Prepared }>>();

// node:zlib is loaded with the first page, not at start: importing it costs about 2 ms (issue 17).
async function prepareBoth(files: WebAppFiles): Promise<{ html: Prepared; script: Prepared }> {
  const { gzipSync } = await import("node:zlib");
  const prepare = (text: string): Prepared => {
    const body = new TextEncoder().encode(text);
    return {
      body,
      gzipped: new Uint8Array(gzipSync(body, { level: 9 })),
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    };
  };
  return { html: prepare(files.webAppHtml), script: prepare(files.webAppScript) };
}

/**
 * The page or the script. Revalidated on every load (`no-cache`), answered 304 when the ETag
 * still matches, and gzipped for browsers that take it: a phone on a weak Wi-Fi fetches the
 * script (about 165 KB) as about 50 KB, and after an upgrade never runs a stale one.
 */
export async function webAppResponse(
  files: WebAppFiles,
  path: string,
  requestHeaders?: Headers,
): Promise<Response> {
  let pending = prepared.get(files);
  if (!pending) {
    pending = prepareBoth(files);
    // A failed preparation is tried again by the next request.
    pending.catch(() => prepared.delete(files));
    prepared.set(files, pending);
  }
  const both = await pending;
  const isScript = path === "/app.js";
  const file = isScript ? both.script : both.html;
  const headers: Record<string, string> = {
    ...common,
    etag: file.etag,
    vary: "accept-encoding",
    ...(isScript
      ? { "content-type": "text/javascript; charset=utf-8" }
      : { "content-type": "text/html; charset=utf-8", "content-security-policy": CONTENT_SECURITY_POLICY }),
  };
  const ifNoneMatch = requestHeaders?.get("if-none-match");
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  if (/\bgzip\b/.test(requestHeaders?.get("accept-encoding") ?? "")) {
    return new Response(file.gzipped, { headers: { ...headers, "content-encoding": "gzip" } });
  }
  return new Response(file.body, { headers });
}
