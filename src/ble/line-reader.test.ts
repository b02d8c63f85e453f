import { describe, expect, test } from "bun:test";
import { createLineSplitter } from "./line-reader.ts";

function split(chunks: string[], maxLineLength?: number) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const splitter = createLineSplitter({
    onLine: (l) => lines.push(l),
    onOverflow: (n) => overflows.push(n),
    maxLineLength,
  });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, overflows };
}

describe("line splitter", () => {
  test("joins a line split across chunks and splits a chunk holding several lines", () => {
    expect(split(['{"a":', '1}\n{"b":2}\n{"c"', ":3}\n"]).lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  test("drops CR of CRLF and blank lines; keeps a last line without newline", () => {
    expect(split(["one\r\n\n  \ntwo"]).lines).toEqual(["one", "two"]);
  });

  test("an over-long line is discarded up to its newline, and the next line still arrives", () => {
    const { lines, overflows } = split(["x".repeat(30), "y".repeat(30), "tail\nok\n"], 50);
    expect(lines).toEqual(["ok"]);
    expect(overflows).toEqual([60]);
  });
});
