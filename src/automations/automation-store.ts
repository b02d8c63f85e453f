import type { Kysely } from "kysely";
import {
  type ActionOutcome,
  type Automation,
  type AutomationRun,
  automationSchema,
  type RunTrigger,
  runTriggerSchema,
} from "../protocol/index.ts";
import type { Database } from "../storage/index.ts";

/** Runs kept per automation: the newest, so a chatty trigger never grows the database. */
export const AUTOMATION_RUNS_KEPT = 50;

type Row = Database["automations"];
type RunRow = Database["automation_runs"];

export interface StoredAutomation extends Automation {
  /** Trigger index → epoch ms of its last scheduled fire. */
  lastFired: Record<string, number>;
}

function fromRow(row: Row): StoredAutomation {
  const definition = JSON.parse(row.definition) as Pick<Automation, "triggers" | "conditions" | "actions">;
  const automation = automationSchema.parse({
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    mode: row.mode,
    ...definition,
    ...(row.suspended_reason ? { suspendedReason: row.suspended_reason } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return { ...automation, lastFired: JSON.parse(row.last_fired) as Record<string, number> };
}

function toRow(a: StoredAutomation): Row {
  return {
    id: a.id,
    name: a.name,
    enabled: a.enabled ? 1 : 0,
    mode: a.mode,
    definition: JSON.stringify({ triggers: a.triggers, conditions: a.conditions, actions: a.actions }),
    suspended_reason: a.suspendedReason ?? null,
    last_fired: JSON.stringify(a.lastFired),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

function runFromRow(row: RunRow): AutomationRun {
  return {
    id: row.id,
    automationId: row.automation_id,
    trigger: runTriggerSchema.parse(JSON.parse(row.trigger)),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ok: row.ok === null ? null : row.ok === 1,
    ...(row.error ? { error: row.error } : {}),
    actions: JSON.parse(row.actions) as ActionOutcome[],
  };
}

/** Automations and their runs in the station database (migration 0006_automations). */
export function createAutomationStore(db: Kysely<Database>) {
  return {
    async all(): Promise<StoredAutomation[]> {
      const rows = await db.selectFrom("automations").selectAll().orderBy("created_at").execute();
      return rows.map(fromRow);
    },
    async insert(a: StoredAutomation) {
      await db.insertInto("automations").values(toRow(a)).execute();
    },
    async update(a: StoredAutomation) {
      const { id, ...rest } = toRow(a);
      await db.updateTable("automations").set(rest).where("id", "=", id).execute();
    },
    async saveLastFired(id: string, lastFired: Record<string, number>) {
      await db
        .updateTable("automations")
        .set({ last_fired: JSON.stringify(lastFired) })
        .where("id", "=", id)
        .execute();
    },
    async remove(id: string) {
      await db.deleteFrom("automations").where("id", "=", id).execute();
    },
    async startRun(run: { id: string; automationId: string; trigger: RunTrigger; startedAt: number }) {
      await db
        .insertInto("automation_runs")
        .values({
          id: run.id,
          automation_id: run.automationId,
          trigger: JSON.stringify(run.trigger),
          started_at: run.startedAt,
          finished_at: null,
          ok: null,
          error: null,
          actions: "[]",
        })
        .execute();
      // Keep the newest AUTOMATION_RUNS_KEPT of this automation.
      const old = await db
        .selectFrom("automation_runs")
        .select("id")
        .where("automation_id", "=", run.automationId)
        .orderBy("started_at", "desc")
        .orderBy("id", "desc")
        .offset(AUTOMATION_RUNS_KEPT)
        .limit(1000)
        .execute();
      if (old.length > 0)
        await db
          .deleteFrom("automation_runs")
          .where(
            "id",
            "in",
            old.map((r) => r.id),
          )
          .execute();
    },
    async finishRun(
      id: string,
      outcome: { finishedAt: number; ok: boolean; error?: string; actions: ActionOutcome[] },
    ) {
      await db
        .updateTable("automation_runs")
        .set({
          finished_at: outcome.finishedAt,
          ok: outcome.ok ? 1 : 0,
          error: outcome.error ?? null,
          actions: JSON.stringify(outcome.actions),
        })
        .where("id", "=", id)
        .execute();
    },
    async runs(automationId: string, limit = AUTOMATION_RUNS_KEPT): Promise<AutomationRun[]> {
      const rows = await db
        .selectFrom("automation_runs")
        .selectAll()
        .where("automation_id", "=", automationId)
        .orderBy("started_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map(runFromRow);
    },
  };
}

export type AutomationStore = ReturnType<typeof createAutomationStore>;
