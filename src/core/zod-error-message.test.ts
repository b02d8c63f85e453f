import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { zodErrorMessage, zodIssues } from "./zod-error-message.ts";

const schema = z.object({ state: z.object({ power: z.enum(["on", "off"]) }), wsUrl: z.string().min(1) });
const fail = (input: unknown) => {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error("expected a failure");
  return parsed.error;
};

describe("zod errors in words", () => {
  test("every issue as a dotted path and zod's message", () => {
    const error = fail({ state: { power: "dim" }, wsUrl: "" });
    expect(zodIssues(error)).toEqual([
      { path: "state.power", message: expect.stringContaining("expected one of") },
      { path: "wsUrl", message: expect.stringContaining(">=1") },
    ]);
  });

  test("one line: the first issue's path, or the subject when the whole value is wrong", () => {
    expect(zodErrorMessage(fail({ state: { power: "dim" }, wsUrl: "x" }), "payload")).toBe(
      'state.power: Invalid option: expected one of "on"|"off"',
    );
    expect(zodErrorMessage(fail("text"), "payload")).toBe(
      "payload: Invalid input: expected object, received string",
    );
  });

  test("a label names the path the caller's way (a CLI flag for a key)", () => {
    const flag = (path: string) => `--${path.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    expect(zodErrorMessage(fail({ state: { power: "on" }, wsUrl: "" }), "flags", flag)).toMatch(
      /^--ws-url: /,
    );
  });
});
