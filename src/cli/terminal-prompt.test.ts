/**
 * The prompt over streams shaped like a terminal (isTTY, raw mode) and like a pipe: what the
 * user types is echoed, except a hidden answer.
 */
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { createTerminalPrompt } from "./terminal-prompt.ts";

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = new PassThrough();
  let shown = "";
  output.on("data", (chunk: Buffer) => {
    shown += chunk.toString();
  });
  return { input, output, shown: () => shown };
}

describe("terminal prompt", () => {
  test("a hidden answer is read but never echoed; a plain one is echoed", async () => {
    const t = terminal();
    const prompt = createTerminalPrompt(t.input, t.output);
    const password = prompt.prompt("Wi-Fi password: ", { hidden: true });
    t.input.write("s3cr"); // typed key by key, with a correction
    t.input.write("x\x7f");
    t.input.write("et\r");
    expect(await password).toBe("s3cret");
    expect(t.shown()).toContain("Wi-Fi password: ");
    expect(t.shown()).not.toContain("s3cr");
    expect(t.shown()).toEndWith("\n");

    const name = prompt.prompt("name: ");
    t.input.write("kitchen\r");
    expect(await name).toBe("kitchen");
    expect(t.shown()).toContain("kitchen");
    prompt.close();
  });

  test("on a pipe, lines read ahead answer the following questions in order", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const prompt = createTerminalPrompt(input, output);
    input.write("home-wifi\nhunter2\nporch\n");
    expect(await prompt.prompt("SSID: ")).toBe("home-wifi");
    expect(await prompt.prompt("password: ", { hidden: true })).toBe("hunter2");
    expect(await prompt.prompt("name: ")).toBe("porch");
    input.end();
    expect(await prompt.prompt("more: ")).toBe("");
    prompt.close();
  });
});
