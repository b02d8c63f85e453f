/**
 * The files the station carries, on Deno: read from beside the source (Deno has no text
 * imports without `--unstable-raw-imports`). `deno compile --include src/ble/ble_bridge.py
 * --include src/http/web/app.html` puts them in the executable, where the same reads find
 * them (docs/deno.md). Read on first use, once.
 */
import { readFileSync } from "node:fs";
import { appScript } from "../../http/web/app-script.generated.ts";
import type { EmbeddedFiles } from "../types.ts";

function lazyText(relative: string): () => string {
  let text: string | undefined;
  return () => {
    text ??= readFileSync(new URL(relative, import.meta.url), "utf8");
    return text;
  };
}

const bleBridgeScript = lazyText("../../ble/ble_bridge.py");
const webAppHtml = lazyText("../../http/web/app.html");

export const denoEmbeddedFiles: EmbeddedFiles = {
  get bleBridgeScript() {
    return bleBridgeScript();
  },
  get webAppHtml() {
    return webAppHtml();
  },
  webAppScript: appScript,
};
