/**
 * Imported first by the web app's entry: zod 4 otherwise probes `new Function` (its JIT for
 * object schemas), which the station's Content-Security-Policy (no 'unsafe-eval') reports as a
 * violation on every page load. Jitless parsing is plenty fast for the few frames a page sees.
 */
import { z } from "zod";

z.config({ jitless: true });
