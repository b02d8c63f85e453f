/**
 * Preloaded into a spawned `bun bin/opengenie.ts` (`bun --preload <this file> …`): on SIGUSR2
 * and when the process exits it writes every module path loaded so far (require.cache:
 * CommonJS packages such as MQTT.js and prom-client, and the ES modules Bun records there) to
 * $OPENGENIE_LOADED_MODULES_FILE, one per line. Tests read it to prove what a station never loaded.
 *
 * It also counts the `Intl.DateTimeFormat`s the station made (a last line
 * `#intl-datetimeformat <n>`): the first one loads the runtime's time-zone data, about 6 ms and
 * 10 MB of resident memory, which a station without time triggers must not pay (issue 17).
 */
import { renameSync, writeFileSync } from "node:fs";

const file = process.env.OPENGENIE_LOADED_MODULES_FILE;
if (file) {
  let formats = 0;
  const original = Intl.DateTimeFormat;
  const counted = new Proxy(original, {
    construct(target, args) {
      formats++;
      return Reflect.construct(target, args);
    },
    apply(target, self, args) {
      formats++;
      return Reflect.apply(target, self, args);
    },
  });
  Object.defineProperty(Intl, "DateTimeFormat", { value: counted, configurable: true, writable: true });
  // Through a rename: a test that sees the file must never read it half-written.
  const dump = () => {
    writeFileSync(
      `${file}.tmp`,
      [...Object.keys(require.cache), `#intl-datetimeformat ${formats}`].join("\n"),
    );
    renameSync(`${file}.tmp`, file);
  };
  process.on("SIGUSR2", dump);
  process.on("exit", dump);
}
