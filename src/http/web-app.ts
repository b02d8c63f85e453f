import appHtml from "./web/app.html" with { type: "text" };

/**
 * The embedded web app (src/http/web/app.html, kept in the binary as text), served for every
 * path outside /api, /ws*, /driver and /metrics, with index.html for unknown paths so
 * client-side routes survive a reload.
 */
const html = appHtml as unknown as string;

export function webAppResponse(): Response {
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
    },
  });
}
