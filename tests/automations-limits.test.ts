/**
 * Issue 16, review: an admin (or a script holding an admin token) cannot grow the station's
 * memory and per-event work without bound by creating automations: past MAX_AUTOMATIONS a
 * create is refused with 409 CONFLICT and nothing is stored, concurrent creates included.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MAX_AUTOMATIONS } from "../src/automations/index.ts";
import { automationListSchema } from "../src/protocol/index.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

let s: TestStation;
let admin: string;

beforeAll(async () => {
  s = await startTestStation();
  admin = await s.userToken("limits-admin", "admin");
});
afterAll(() => s.stop());

const create = (n: number) =>
  s.api("/api/automations", {
    method: "POST",
    token: admin,
    body: JSON.stringify({
      name: `nightly ${n}`,
      triggers: [{ type: "time", at: "23:00" }],
      actions: [{ type: "notify", message: `night ${n}` }],
    }),
  });

async function stored(): Promise<string[]> {
  const res = await s.api("/api/automations", { token: admin });
  return automationListSchema.parse(await res.json()).automations.map((a) => a.id);
}

test(`at most ${MAX_AUTOMATIONS} automations; concurrent creates at the cap let exactly one through`, async () => {
  for (let n = 0; n < MAX_AUTOMATIONS - 1; n += 15) {
    const batch = Array.from({ length: Math.min(15, MAX_AUTOMATIONS - 1 - n) }, (_, i) => create(n + i));
    expect((await Promise.all(batch)).map((r) => r.status)).toEqual(batch.map(() => 201));
  }
  expect(await stored()).toHaveLength(MAX_AUTOMATIONS - 1);
  // One place left, eight asking for it at once.
  const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => create(1000 + i)));
  expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
  for (const res of racing.filter((r) => r.status !== 201)) {
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
  }
  const ids = await stored();
  expect(ids).toHaveLength(MAX_AUTOMATIONS);
  // Deleting one makes room again.
  expect((await s.api(`/api/automations/${ids[0]}`, { method: "DELETE", token: admin })).status).toBe(200);
  expect((await create(2000)).status).toBe(201);
  expect((await create(2001)).status).toBe(409);
}, 60_000);
