import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "./load-config.ts";

// The module hub's settings (CONTRACT.md section 4): AUTHENTICATION_TOKEN, the policy as JSON in
// OPENGENIE_MODULES_POLICY or as an object in config.json, OPENGENIE_MODULES_COMMANDS.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dataDir(file?: object) {
  const dir = mkdtempSync(join(tmpdir(), "og-modcfg-"));
  dirs.push(dir);
  if (file) writeFileSync(join(dir, "config.json"), JSON.stringify(file));
  return dir;
}
const load = (env: Record<string, string>, file?: object) =>
  loadConfig({ flags: { "data-dir": dataDir(file) }, env });

test("defaults: no token, no policy, device commands from modules off", () => {
  const config = load({});
  expect(config.modulesToken).toBeUndefined();
  expect(config.modulesPolicy).toBeUndefined();
  expect(config.modulesCommands).toBe("off");
});

test("the environment: AUTHENTICATION_TOKEN, the policy as JSON text, commands on", () => {
  const config = load({
    AUTHENTICATION_TOKEN: "t0ken",
    OPENGENIE_MODULES_POLICY: '{"denyPlugins":["muted"],"allowLabels":["env=home"]}',
    OPENGENIE_MODULES_COMMANDS: "on",
  });
  expect(config.modulesToken).toBe("t0ken");
  expect(config.modulesPolicy).toEqual({ denyPlugins: ["muted"], allowLabels: ["env=home"] });
  expect(config.modulesCommands).toBe("on");
});

test("config.json holds the policy as an object; the environment wins over it", () => {
  expect(load({}, { modulesPolicy: { allowPlugins: ["a"] } }).modulesPolicy).toEqual({ allowPlugins: ["a"] });
  const both = load(
    { OPENGENIE_MODULES_POLICY: '{"allowPlugins":["b"]}' },
    { modulesPolicy: { allowPlugins: ["a"] } },
  );
  expect(both.modulesPolicy).toEqual({ allowPlugins: ["b"] });
});

test.each([
  ["not JSON", "{deny"],
  ["an unknown key (a typo must not silently allow everyone)", '{"denyPlugin":["x"]}'],
  ["a list of the wrong type", '{"denyPlugins":"x"}'],
])("a policy that is %s stops the station with a message naming OPENGENIE_MODULES_POLICY", (_, value) => {
  expect(() => load({ OPENGENIE_MODULES_POLICY: value })).toThrow(ConfigError);
  expect(() => load({ OPENGENIE_MODULES_POLICY: value })).toThrow(/OPENGENIE_MODULES_POLICY/);
});

test("OPENGENIE_MODULES_COMMANDS takes on or off only", () => {
  expect(() => load({ OPENGENIE_MODULES_COMMANDS: "yes" })).toThrow(/OPENGENIE_MODULES_COMMANDS/);
});
