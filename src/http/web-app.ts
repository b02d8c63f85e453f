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

export function webAppResponse(files: WebAppFiles, path: string): Response {
  if (path === "/app.js") {
    return new Response(files.webAppScript, {
      headers: { ...common, "content-type": "text/javascript; charset=utf-8" },
    });
  }
  return new Response(files.webAppHtml, {
    headers: {
      ...common,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CONTENT_SECURITY_POLICY,
    },
  });
}
