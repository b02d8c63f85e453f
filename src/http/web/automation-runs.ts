/**
 * An automation's recent runs (`GET /api/automations/:id/runs`, newest first): what started
 * each, when, its result and every action's outcome. Refreshed on the `automations` channel's
 * pushes; while a run is still going it looks again each second until it ends.
 */
import { type Automation, automationRunListSchema, type AutomationRun as Run } from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { clock, describeOutcome, describeRunTrigger, runState } from "./automation-text.ts";
import { h } from "./dom.ts";

const SHOWN = 10;
const POLL_MS = 1000;

export const fetchRuns = async (id: string) =>
  (await api(`/api/automations/${encodeURIComponent(id)}/runs`, { schema: automationRunListSchema })).runs;

function runItem(run: Run, automation: Automation) {
  const state = runState(run);
  return h(
    "li",
    { class: `run ${run.ok === null ? "pending" : run.ok ? "ok" : "failed"}`, "data-run": run.id },
    h("time", { dateTime: new Date(run.startedAt).toISOString() }, clock(run.startedAt)),
    ` · ${describeRunTrigger(run.trigger)} · `,
    h("strong", {}, state),
    run.actions.length
      ? h(
          "ol",
          { class: "outcomes" },
          ...run.actions.map((o, i) =>
            h("li", { class: o.ok ? "ok" : "failed" }, describeOutcome(o, automation.actions[i])),
          ),
        )
      : null,
  );
}

/** The runs section for one automation; `refresh` re-reads them (e.g. after a push). */
export function runList(automation: Automation) {
  const list = h("ol", { class: "runs", "aria-label": "Recent runs" });
  const status = h("p", { class: "muted", role: "status" });
  const el = h("section", { class: "card" }, h("h3", {}, "Recent runs"), status, list);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const runs = await fetchRuns(automation.id);
      if (stopped) return;
      status.textContent = runs.length ? "" : "No runs yet.";
      list.replaceChildren(...runs.slice(0, SHOWN).map((r) => runItem(r, automation)));
      if (runs.some((r) => r.ok === null)) timer = setTimeout(() => void refresh(), POLL_MS);
    } catch (err) {
      status.textContent = messageOf(err);
    }
  };
  void refresh();
  return {
    el,
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** "Last run 12:00:03, ok" for the list, or the run in progress. */
export function lastRunText(run: Run | undefined): string {
  if (!run) return "Never run.";
  return `Last run ${clock(run.startedAt)} (${describeRunTrigger(run.trigger)}): ${runState(run)}`;
}
