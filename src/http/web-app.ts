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
      "content-security-policy":
        "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
    },
  });
}
