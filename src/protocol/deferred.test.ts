import { expect, test } from "bun:test";
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { deferred } from "./deferred.ts";

function counted<T extends object>(build: () => T) {
  const calls = { n: 0 };
  const schema = deferred(() => {
    calls.n++;
    return build();
  });
  return { schema, calls };
}

test("builds on the first use, once, and parses exactly as the schema it stands for", () => {
  const build = () => z.object({ name: z.string().min(1), level: z.number().int().max(100) });
  const { schema, calls } = counted(build);
  expect(calls.n).toBe(0);

  const plain = build();
  for (const input of [{ name: "a", level: 3 }, { name: "", level: 3 }, { level: 101 }, null, "x"]) {
    const got = schema.safeParse(input);
    const want = plain.safeParse(input);
    expect(got.success).toBe(want.success);
    expect(got.success ? got.data : got.error.issues).toEqual(want.success ? want.data : want.error.issues);
  }
  expect(() => schema.parse({})).toThrow(z.ZodError);
  expect(calls.n).toBe(1);
});

test("composes: inside objects, unions and discriminated unions, built only when the outer schema is", () => {
  const leaf = counted(() => z.object({ type: z.literal("on"), at: z.string() }));
  const other = counted(() => z.object({ type: z.literal("off") }));
  const outer = deferred(() =>
    z.object({
      first: z.discriminatedUnion("type", [leaf.schema, other.schema]),
      rest: z.array(z.union([leaf.schema, other.schema])).optional(),
    }),
  );
  expect([leaf.calls.n, other.calls.n]).toEqual([0, 0]);
  expect(outer.parse({ first: { type: "on", at: "x" }, rest: [{ type: "off" }] })).toEqual({
    first: { type: "on", at: "x" },
    rest: [{ type: "off" }],
  });
  expect(outer.safeParse({ first: { type: "dim" } }).success).toBe(false);
  expect([leaf.calls.n, other.calls.n]).toEqual([1, 1]);
});

test("behaves as a zod schema to code that inspects one: instanceof, methods taken off it, chained copies", () => {
  const { schema } = counted(() => z.string().max(3));
  expect(schema instanceof z.ZodString).toBe(true);
  expect(schema instanceof z.ZodType).toBe(true);
  expect("_zod" in schema).toBe(true);
  const { parse } = schema;
  expect(parse("abc")).toBe("abc");
  expect(schema.parse).toBe(schema.parse); // bound once, not per read
  expect(schema.optional().parse(undefined)).toBeUndefined();
  expect(schema.array().safeParse(["abcd"]).success).toBe(false);
  expect(z.toJSONSchema(schema)).toEqual(z.toJSONSchema(z.string().max(3)));
});

test("a named schema keeps its name in the OpenAPI document", async () => {
  const body = deferred(() => z.object({ name: z.string() }).meta({ id: "DeferredThing" }));
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: "post",
      path: "/things",
      request: { body: { content: { "application/json": { schema: body } } } },
      responses: { 200: { description: "ok", content: { "application/json": { schema: body } } } },
    }),
    (c) => c.json(c.req.valid("json"), 200),
  );
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  expect(Object.keys(doc.components?.schemas ?? {})).toEqual(["DeferredThing"]);
  const res = await app.request("/things", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: 5 }),
  });
  expect(res.status).toBe(400);
});
