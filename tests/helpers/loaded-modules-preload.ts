/**
 * Preloaded into a spawned `bun bin/opengenie.ts` (`bun --preload <this file> …`): on SIGUSR2
 * and when the process exits it writes every module path loaded so far (require.cache:
 * CommonJS packages such as MQTT.js and prom-client, and the ES modules Bun records there) to
 * $OPENGENIE_LOADED_MODULES_FILE, one per line. Tests read it to prove what a station never loaded.
 *
 * It also counts the `Intl.DateTimeFormat`s the station made (a last line
 * `#intl-datetimeformat <n>`): the first one loads the runtime's time-zone data, about 6 ms and
 * 10 MB of resident memory, which a station without time triggers must not pay (issue 17).
 *
 * When `<file>.probe` exists, the dump also reads each schema it names (`<module path> <export>`
 * per line) and writes `#schema <export> <n>`: the zod schemas that reading built. A schema the
 * station had already built costs 0; a deferred one (src/protocol/deferred.ts) still unbuilt
 * costs at least 1. zod gives each schema it constructs a `_zod` property, which is counted.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

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
  let schemas = 0;
  const defineProperty = Object.defineProperty;
  Object.defineProperty = <T>(
    target: T,
    key: PropertyKey,
    attributes: PropertyDescriptor & ThisType<unknown>,
  ) => {
    if (key === "_zod") schemas++;
    return defineProperty(target, key, attributes);
  };
  const probe = (): string[] => {
    if (!existsSync(`${file}.probe`)) return [];
    return readFileSync(`${file}.probe`, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [path, name] = line.split(" ") as [string, string];
        const before = schemas;
        void require(path)[name]._zod;
        return `#schema ${name} ${schemas - before}`;
      });
  };
  // Through a rename: a test that sees the file must never read it half-written.
  const dump = () => {
    writeFileSync(
      `${file}.tmp`,
      [...Object.keys(require.cache), `#intl-datetimeformat ${formats}`, ...probe()].join("\n"),
    );
    renameSync(`${file}.tmp`, file);
  };
  process.on("SIGUSR2", dump);
  process.on("exit", dump);
}
