/**
 * The files the executable carries: Bun text imports are inlined by `bun build --compile`, so
 * the binary needs nothing beside it. The rest of the station reaches them as
 * `platform.embedded` and never imports a file as text itself.
 */
import bleBridgeScript from "../../ble/ble_bridge.py" with { type: "text" };
import webAppHtml from "../../http/web/app.html" with { type: "text" };
import { appScript } from "../../http/web/app-script.generated.ts";
import type { EmbeddedFiles } from "../types.ts";

/** bun-types declares `*.html` imports as HTML bundles; with `type: "text"` Bun hands over the text. */
function text(value: unknown, file: string): string {
  if (typeof value !== "string") throw new Error(`${file} was not embedded as text`);
  return value;
}

export const bunEmbeddedFiles: EmbeddedFiles = {
  bleBridgeScript,
  webAppHtml: text(webAppHtml, "src/http/web/app.html"),
  webAppScript: appScript,
};
