import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { z } from "zod";
import { createManualClock, StationError } from "../core/index.ts";
import { createJsonRpcPeer, JsonRpcError, type PlainMessage } from "./json-rpc-peer.ts";

/** Two peers wired back to back through a queue, as two ends of one socket. */
function pair() {
  const clock = createManualClock();
  const toA: string[] = [];
  const toB: string[] = [];
  const plain: PlainMessage[] = [];
  const a = createJsonRpcPeer({ send: (t) => toB.push(t), clock, onPlainMessage: (m) => plain.push(m) });
  const b = createJsonRpcPeer({ send: (t) => toA.push(t), clock, onPlainMessage: (m) => plain.push(m) });
  /** Delivers everything queued, both ways, until quiet. */
  async function pump() {
    for (let i = 0; i < 20; i++) {
      for (const t of toB.splice(0)) b.handleText(t);
      for (const t of toA.splice(0)) a.handleText(t);
      await Bun.sleep(0);
    }
  }
  return { clock, a, b, toA, toB, plain, pump };
}

/** A peer whose answers are collected as parsed objects. */
function single() {
  const clock = createManualClock();
  const sent: Record<string, unknown>[] = [];
  const plain: PlainMessage[] = [];
  const bad: string[] = [];
  const peer = createJsonRpcPeer({
    send: (t) => sent.push(JSON.parse(t)),
    clock,
    onPlainMessage: (m) => plain.push(m),
    onBadMessage: (r) => bad.push(r),
  });
  peer.register("echo", z.object({ x: z.number() }), ({ x }) => ({ x }));
  peer.register("fail", z.object({}), () => {
    throw new StationError("DEVICE_OFFLINE", "device d1 is offline", { deviceId: "d1" });
  });
  peer.register("crash", z.object({}), () => {
    throw new Error("secret internals");
  });
  return { clock, peer, sent, plain, bad };
}

describe("JSON-RPC peer", () => {
  test("a call gets the other side's result, and an error object as a JsonRpcError", async () => {
    const { a, b, pump } = pair();
    b.register("add", z.object({ x: z.number(), y: z.number() }), ({ x, y }) => x + y);
    const sum = a.call("add", { x: 2, y: 3 });
    await pump();
    expect(await sum).toBe(5);
    const missing = a.call("nope").catch((e) => e);
    await pump();
    const err = (await missing) as JsonRpcError;
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err.code).toBe(-32601);
  });

  test("standard error codes; StationError codes travel in data; no internals leak", async () => {
    const { peer, sent } = single();
    peer.handleText("{not json");
    peer.handleText("[]");
    peer.handleText('{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"no"}}');
    peer.handleText('{"id":2,"method":"nope"}');
    peer.handleText('{"id":3,"method":"fail"}');
    peer.handleText('{"id":4,"method":"crash"}');
    peer.handleText('{"id":5,"method":"echo","params":{"x":7}}'); // no `jsonrpc`: tolerated
    await Bun.sleep(0);
    const byId = (id: unknown) => sent.find((m) => m.id === id) as { error?: Record<string, unknown> };
    expect(sent[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(sent[1]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(byId(1).error?.code).toBe(-32602);
    expect(byId(2).error?.code).toBe(-32601);
    expect(byId(3).error).toEqual({
      code: -32000,
      message: "device d1 is offline",
      data: { code: "DEVICE_OFFLINE", details: { deviceId: "d1" } },
    });
    expect(byId(4).error).toEqual({
      code: -32603,
      message: "internal error",
      data: { code: "INTERNAL_ERROR" },
    });
    expect(byId(5)).toEqual({ jsonrpc: "2.0", id: 5, result: { x: 7 } } as never);
  });

  test("notifications are never answered; plain {type} messages go to their own handler", async () => {
    const { peer, sent, plain } = single();
    peer.handleText('{"jsonrpc":"2.0","method":"echo","params":{"x":1}}');
    peer.handleText('{"jsonrpc":"2.0","method":"nope"}');
    peer.handleText('{"type":"member_removed","cloudUserId":"u1"}');
    await Bun.sleep(0);
    expect(sent).toEqual([]);
    expect(plain).toEqual([{ type: "member_removed", cloudUserId: "u1" }]);
  });

  test("pending calls fail when the connection closes, and on their own timeout", async () => {
    const { clock, a } = pair();
    const slow = a.call("x", undefined, { timeoutMs: 1000 });
    const dropped = a.call("y");
    clock.advance(1000);
    expect(((await slow.catch((e) => e)) as Error).message).toContain("within 1000 ms");
    expect(a.pendingCalls).toBe(1);
    a.close("cloud gone");
    expect(((await dropped.catch((e) => e)) as StationError).message).toBe("cloud gone");
    expect(a.pendingCalls).toBe(0);
    await expect(a.call("z")).rejects.toThrow("closed");
  });

  test("arbitrary input never throws and is answered at most once per message", () => {
    const { peer, sent } = single();
    const anyJson = fc.jsonValue().map((v) => JSON.stringify(v));
    const shaped = fc
      .record(
        {
          jsonrpc: fc.oneof(fc.constant("2.0"), fc.string()),
          id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object()),
          method: fc.oneof(fc.constantFrom("echo", "fail", "crash"), fc.string()),
          params: fc.jsonValue(),
          result: fc.jsonValue(),
          error: fc.jsonValue(),
          type: fc.jsonValue(),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v));
    fc.assert(
      fc.property(fc.oneof(fc.string(), anyJson, shaped), (text) => {
        const before = sent.length;
        expect(() => peer.handleText(text)).not.toThrow();
        expect(sent.length - before).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });
});
