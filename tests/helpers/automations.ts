import type { AutomationService } from "../../src/automations/index.ts";
import {
  type Automation,
  type AutomationRun,
  automationBodySchema,
  automationRunListSchema,
} from "../../src/protocol/index.ts";
import { eventually } from "./devices.ts";
import type { TestStation } from "./test-station.ts";
import { waitFor } from "./wait-for.ts";

/** `POST /api/automations` as an admin would; the reply must be the protocol's. */
export async function createAutomation(s: TestStation, token: string, body: object): Promise<Automation> {
  const res = await s.api("/api/automations", { method: "POST", token, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST /api/automations: ${res.status} ${await res.text()}`);
  return automationBodySchema.parse(await res.json()).automation;
}

export async function getAutomation(s: TestStation, token: string, id: string): Promise<Automation> {
  const res = await s.api(`/api/automations/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET automation: ${res.status} ${await res.text()}`);
  return automationBodySchema.parse(await res.json()).automation;
}

export async function runs(s: TestStation, token: string, id: string): Promise<AutomationRun[]> {
  const res = await s.api(`/api/automations/${id}/runs`, { token });
  if (res.status !== 200) throw new Error(`GET runs: ${res.status} ${await res.text()}`);
  return automationRunListSchema.parse(await res.json()).runs;
}

/** Waits until `count` runs are recorded and finished; returns them oldest first. */
export async function finishedRuns(
  s: TestStation,
  token: string,
  id: string,
  count: number,
  timeoutMs = 5000,
) {
  const list = await eventually(
    () => runs(s, token, id),
    (r) => r.length === count && r.every((run) => run.finishedAt !== null),
    timeoutMs,
  );
  return [...list].reverse();
}

/** The running station's automation service, to read its counters (how many runs started). */
export function automationService(s: TestStation): AutomationService {
  const m = s.station.modules.find((x) => x.name === "automations") as unknown as {
    service: AutomationService;
  };
  return m.service;
}

/**
 * Moves a manual clock forward in steps, letting each step's runs finish (they write to the
 * database) before the next: time in a test moves in one synchronous call, a station's does not.
 */
export async function advanceInSteps(
  s: TestStation,
  clock: { advance(ms: number): void },
  ms: number,
  stepMs = 60_000,
) {
  const service = automationService(s);
  for (let left = ms; left > 0; left -= stepMs) {
    clock.advance(Math.min(stepMs, left));
    await waitFor(() => service.active() === 0, 5000, "automation runs to finish");
  }
}
