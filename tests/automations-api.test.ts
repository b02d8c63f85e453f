/**
 * Issue 16: `/api/automations…` from the outside: who may call what (401/403), malformed and
 * hostile bodies (400/415, nothing stored), the `automations` channel's role, the CLI, and a
 * fuzz of the definition boundary.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_RUNS_PER_MINUTE } from "../src/automations/index.ts";
import { automationListSchema } from "../src/protocol/index.ts";
import { createAutomation } from "./helpers/automations.ts";
import { addDevice } from "./helpers/devices.ts";
import { joinModule } from "./helpers/module-client.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";
import { openSocket } from "./helpers/ws-client.ts";

let s: TestStation;
const tokens: Record<string, string> = {};
let lightId: string;

beforeAll(async () => {
  s = await startTestStation();
  for (const role of ["owner", "admin", "member", "guest"])
    tokens[role] = await s.userToken(`api-${role}`, role);
  lightId = (await addDevice(s, tokens.admin!, "Desk", "light")).device.id;
});
afterAll(() => s.stop());

const valid = () => ({
  name: "Desk on at dusk",
  triggers: [{ type: "time", at: "19:30", days: ["mon", "fri"] }],
  conditions: [{ type: "time", after: "18:00", before: "23:00" }],
  actions: [
    { type: "device_command", deviceId: lightId, action: "set_brightness", params: { brightness: 40 } },
    { type: "delay", ms: 1000 },
    { type: "notify", message: "desk lamp on" },
  ],
});

async function stored(): Promise<number> {
  const res = await s.api("/api/automations", { token: tokens.admin });
  return automationListSchema.parse(await res.json()).automations.length;
}

test("admins change, members read and run, guests and strangers get nothing", async () => {
  const created = await createAutomation(s, tokens.admin!, valid());
  const id = created.id;
  const calls: [string, string, object | undefined, string][] = [
    ["GET", "/api/automations", undefined, "member"],
    ["POST", "/api/automations", valid(), "admin"],
    ["GET", `/api/automations/${id}`, undefined, "member"],
    ["PATCH", `/api/automations/${id}`, { name: "Renamed" }, "admin"],
    ["POST", `/api/automations/${id}/run`, undefined, "member"],
    ["GET", `/api/automations/${id}/runs`, undefined, "member"],
  ];
  const rank = ["guest", "member", "admin", "owner"];
  for (const [method, path, body, least] of calls) {
    const init = { method, ...(body ? { body: JSON.stringify(body) } : {}) };
    expect({ path, method, status: (await s.api(path, init)).status }).toEqual({ path, method, status: 401 });
    expect((await s.api(path, { ...init, token: "not-a-token" })).status).toBe(401);
    for (const role of rank) {
      const status = (await s.api(path, { ...init, token: tokens[role] })).status;
      const allowed = rank.indexOf(role) >= rank.indexOf(least);
      expect({ path, method, role, forbidden: status === 403 }).toEqual({
        path,
        method,
        role,
        forbidden: !allowed,
      });
    }
  }
  expect((await s.api(`/api/automations/${id}`, { method: "DELETE", token: tokens.member })).status).toBe(
    403,
  );
  expect((await s.api(`/api/automations/${id}`, { method: "DELETE", token: tokens.admin })).status).toBe(200);
  expect((await s.api(`/api/automations/${id}`, { token: tokens.admin })).status).toBe(404);
  expect((await s.api(`/api/automations/${id}/run`, { method: "POST", token: tokens.admin })).status).toBe(
    404,
  );
});

test("a member asking for runs past the per-minute limit gets 429; the automation is not suspended", async () => {
  const a = await createAutomation(s, tokens.admin!, {
    name: "Doorbell chime",
    mode: "restart", // every request starts a run (none is skipped or queued), so each one counts
    triggers: [{ type: "time", at: "12:00" }],
    actions: [{ type: "notify", message: "ding" }],
  });
  const statuses: number[] = [];
  for (let i = 0; i < MAX_RUNS_PER_MINUTE + 5; i++) {
    const res = await s.api(`/api/automations/${a.id}/run`, { method: "POST", token: tokens.member });
    statuses.push(res.status);
    if (res.status !== 202) {
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
      break;
    }
  }
  // Loop protection (suspension) is for triggers; a member who may run but not change an
  // automation cannot disable it this way. Before, the 21st run suspended it (then 409).
  expect(statuses).toEqual([...Array(MAX_RUNS_PER_MINUTE).fill(202), 429]);
  const after = await s.api(`/api/automations/${a.id}`, { token: tokens.member });
  expect(((await after.json()) as { automation: { enabled: boolean } }).automation.enabled).toBe(true);
});

test("malformed and hostile bodies are refused with a clear error and store nothing", async () => {
  const before = await stored();
  const post = (body: string, headers: Record<string, string> = {}) =>
    s.api("/api/automations", { method: "POST", token: tokens.admin, body, headers });
  const cases: [string, number, string][] = [
    ["{", 400, "PARSE_ERROR"],
    ["[]", 400, "VALIDATION_ERROR"],
    [JSON.stringify({ ...valid(), triggers: [] }), 400, "VALIDATION_ERROR"],
    [JSON.stringify({ ...valid(), actions: [] }), 400, "VALIDATION_ERROR"],
    [JSON.stringify({ ...valid(), mode: "parallel" }), 400, "VALIDATION_ERROR"],
    [JSON.stringify({ ...valid(), extra: true }), 400, "VALIDATION_ERROR"],
    [JSON.stringify({ ...valid(), triggers: [{ type: "time", at: "25:00" }] }), 400, "VALIDATION_ERROR"],
    [
      JSON.stringify({
        ...valid(),
        triggers: [{ type: "device_state", deviceId: lightId, key: "power", op: "gt" }],
      }),
      400,
      "VALIDATION_ERROR",
    ],
    [JSON.stringify({ ...valid(), actions: [{ type: "delay", ms: -1 }] }), 400, "VALIDATION_ERROR"],
    [
      JSON.stringify({ ...valid(), actions: [{ type: "shell", command: "rm -rf /" }] }),
      400,
      "VALIDATION_ERROR",
    ],
    [
      JSON.stringify({ ...valid(), actions: Array(33).fill({ type: "notify", message: "x" }) }),
      400,
      "VALIDATION_ERROR",
    ],
  ];
  for (const [body, status, code] of cases) {
    const res = await post(body);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect({ body: body.slice(0, 60), status: res.status, code: json.error.code }).toEqual({
      body: body.slice(0, 60),
      status,
      code,
    });
    expect(json.error.message.length).toBeGreaterThan(0);
  }
  const form = await post("name=x", { "content-type": "application/x-www-form-urlencoded" });
  expect(form.status).toBe(415);
  const long = await s.api(`/api/automations/${"x".repeat(200)}`, { token: tokens.admin });
  expect(long.status).toBe(400);
  const patchUnknown = await s.api("/api/automations/nope", {
    method: "PATCH",
    token: tokens.admin,
    body: JSON.stringify({ name: "x" }),
  });
  expect(patchUnknown.status).toBe(404);
  expect(await stored()).toBe(before);
});

test("fuzz: any JSON body is answered 201 or 4xx, never 500", async () => {
  const before = await stored();
  let created = 0;
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
      const res = await s.api("/api/automations", {
        method: "POST",
        token: tokens.admin,
        body: JSON.stringify(value),
      });
      if (res.status === 201) created++;
      return res.status === 201 || (res.status >= 400 && res.status < 500);
    }),
    { numRuns: 150 },
  );
  expect(await stored()).toBe(before + created);
});

test("the automations channel is for members; guests are refused", async () => {
  const guest = await openSocket(`${s.wsUrl}/ws?token=${tokens.guest}`);
  const member = await openSocket(`${s.wsUrl}/ws?token=${tokens.member}`);
  try {
    await guest.next();
    await member.next();
    expect(await guest.request("subscribe", { channel: "automations" })).toMatchObject({
      type: "error",
      code: "FORBIDDEN",
    });
    expect(await member.request("subscribe", { channel: "automations" })).toMatchObject({ type: "result" });
  } finally {
    guest.close();
    member.close();
  }
});

test("the CLI lists automations and runs one through the running station", async () => {
  const a = await createAutomation(s, tokens.admin!, {
    ...valid(),
    name: "From the CLI",
    actions: [{ type: "notify", message: "cli" }],
  });
  const listed = await cli(s.dataDir, ["automations", "--json"]);
  expect(listed.code).toBe(0);
  const names = automationListSchema.parse(JSON.parse(listed.stdout)).automations.map((x) => x.name);
  expect(names).toContain("From the CLI");
  const table = await cli(s.dataDir, ["automations"]);
  expect(table.stdout).toContain("From the CLI");
  const ran = await cli(s.dataDir, ["automation", "run", a.id, "--json"]);
  expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(ran.stdout)).toMatchObject({ automationId: a.id, status: "started" });
  const missing = await cli(s.dataDir, ["automation", "run", "nope"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no automation nope");
});

test("a module_event action reaches /ws/modules modules as automation.event from the station", async () => {
  const listener = await joinModule(`${s.wsUrl}/ws/modules`, { name: "automation-listener" });
  try {
    const a = await createAutomation(s, tokens.admin!, {
      ...valid(),
      name: "Tell the assistant",
      actions: [{ type: "module_event", event: "assistant.say", data: { text: "good night" } }],
    });
    const res = await s.api(`/api/automations/${a.id}/run`, { method: "POST", token: tokens.member });
    expect(res.status).toBe(202);
    const seen = await listener.waitFor((e) => e.type === "automation.event");
    expect(seen.data).toMatchObject({
      automationId: a.id,
      event: "assistant.say",
      data: { text: "good night" },
    });
  } finally {
    listener.close();
  }
});

test("the OpenAPI document describes the automation routes and shapes", async () => {
  const doc = (await (await s.api("/api/openapi.json", { token: tokens.guest })).json()) as {
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      "/api/automations",
      "/api/automations/{id}",
      "/api/automations/{id}/run",
      "/api/automations/{id}/runs",
    ]),
  );
  expect(Object.keys(doc.components.schemas)).toEqual(
    expect.arrayContaining([
      "Automation",
      "NewAutomation",
      "AutomationTrigger",
      "AutomationCondition",
      "AutomationAction",
      "AutomationRun",
    ]),
  );
  type Responses = Record<string, { responses: Record<string, unknown> }>;
  const paths = doc.paths as Record<string, Responses>;
  expect(Object.keys(paths["/api/automations"]!.post!.responses)).toContain("409"); // the cap
  expect(Object.keys(paths["/api/automations/{id}/run"]!.post!.responses)).toContain("429");
});
