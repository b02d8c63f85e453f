import appHtml from "./web/app.html" with { type: "text" };
import { appScript } from "./web/app-script.generated.ts";

/**
 * The embedded web app: src/http/web/app.html (kept in the binary as text) and its script,
 * src/http/web/app.ts bundled for browsers (`bun build.ts --web`). Served for every path outside
 * /api, /ws*, /driver and /metrics, with index.html for unknown paths so client-side routes
 * survive a reload.
 */
const html = appHtml as unknown as string;

const common = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

export function webAppResponse(path: string): Response {
  if (path === "/app.js") {
    return new Response(appScript, {
      headers: { ...common, "content-type": "text/javascript; charset=utf-8" },
    });
  }
  return new Response(html, {
    headers: {
      ...common,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy":
        "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
    },
  });
}
