/**
 * Preloaded into a spawned `bun bin/opengenie.ts` (`bun --preload <this file> …`): on SIGUSR2
 * and when the process exits it writes every module path loaded so far (require.cache:
 * CommonJS packages such as MQTT.js and prom-client, and the ES modules Bun records there) to
 * $OPENGENIE_LOADED_MODULES_FILE, one per line. Tests read it to prove what a station never loaded.
 */
import { writeFileSync } from "node:fs";

const file = process.env.OPENGENIE_LOADED_MODULES_FILE;
if (file) {
  const dump = () => writeFileSync(file, Object.keys(require.cache).join("\n"));
  process.on("SIGUSR2", dump);
  process.on("exit", dump);
}
