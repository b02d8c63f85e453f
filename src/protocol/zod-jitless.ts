/**
 * Imported first by the browser bundle (src/http/web/app.ts), before any schema is built: zod 4
 * otherwise probes `new Function` when it builds an object schema and compiles parsers with it,
 * which the web app's Content-Security-Policy (script-src 'self', no 'unsafe-eval') forbids and
 * Chromium reports as a violation on every load (issue 15). The server does not import this: it
 * keeps zod's faster compiled parsers.
 */
import { z } from "zod";

z.config({ jitless: true });
