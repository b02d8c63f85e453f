/**
 * The automations (member and up): each with what it does, enabled or suspended (with the
 * station's reason), its last run kept live from the `automations` channel, and Run; admins
 * also switch them on and off and create new ones.
 */
import type { Push } from "../../client/index.ts";
import {
  type Automation,
  automationBodySchema,
  automationListSchema,
  automationRunStartedSchema,
} from "../../protocol/index.ts";
import { ApiError, api, messageOf } from "./api.ts";
import { fetchRuns, lastRunText } from "./automation-runs.ts";
import { describeAutomation } from "./automation-text.ts";
import { devicesLoaded, loadDevices } from "./device-store.ts";
import { h } from "./dom.ts";
import type { Page } from "./router.ts";
import { hasRole, liveSubscribe, onConnectionState } from "./session.ts";

const POLL_MS = 1000;

export function stateText(a: Automation): string {
  if (a.suspendedReason) return `Suspended: ${a.suspendedReason}`;
  return a.enabled ? "Enabled" : "Disabled";
}

/** Runs it now (the actions, not the conditions); says what the station did. */
export async function runNow(a: Automation, status: HTMLElement): Promise<void> {
  status.textContent = `Starting ${a.name}…`;
  try {
    const res = await api(`/api/automations/${encodeURIComponent(a.id)}/run`, {
      body: {},
      schema: automationRunStartedSchema,
    });
    status.textContent =
      res.status === "skipped"
        ? `${a.name} is already running (mode single): not started again.`
        : `${a.name} ${res.status === "queued" ? "is queued" : "started"}.`;
  } catch (err) {
    status.textContent =
      err instanceof ApiError && err.code === "CONFLICT"
        ? `${a.name} is disabled: enable it first.`
        : messageOf(err);
  }
}

export const automationsPage: Page = {
  title: "Automations",
  access: "member",
  render(view) {
    const admin = hasRole("admin");
    const status = h("p", { class: "cmd", role: "status" });
    const list = h("ul", { class: "rows", "aria-label": "Automations" });
    view.append(
      h("h2", {}, "Automations"),
      admin ? h("p", {}, h("a", { href: "/automations/new", class: "button" }, "New automation")) : "",
      status,
      h("section", { class: "card" }, list),
    );
    const rows = new Map<string, ReturnType<typeof row>>();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let stopped = false;

    async function load() {
      try {
        if (!devicesLoaded()) await loadDevices();
        const { automations } = await api("/api/automations", { schema: automationListSchema });
        if (stopped) return;
        rows.clear();
        for (const a of automations) rows.set(a.id, row(a));
        list.replaceChildren(
          ...(automations.length
            ? [...rows.values()].map((r) => r.el)
            : [
                h(
                  "li",
                  { class: "muted" },
                  admin ? "No automations yet: create one." : "No automations yet.",
                ),
              ]),
        );
        for (const id of rows.keys()) void showLastRun(id);
      } catch (err) {
        status.textContent = messageOf(err);
      }
    }

    async function showLastRun(id: string) {
      const r = rows.get(id);
      if (!r) return;
      try {
        const [last] = await fetchRuns(id);
        if (stopped) return;
        r.last.textContent = lastRunText(last);
        if (last && last.ok === null) {
          const t = setTimeout(() => {
            timers.delete(t);
            void showLastRun(id);
          }, POLL_MS);
          timers.add(t);
        }
      } catch (err) {
        r.last.textContent = messageOf(err);
      }
    }

    function row(a: Automation) {
      const state = h("span", { class: a.suspendedReason ? "error" : "muted" }, stateText(a));
      const last = h("p", { class: "cmd", role: "status" });
      const toggle = h("input", {
        type: "checkbox",
        checked: a.enabled,
        id: `enabled-${a.id}`,
        "aria-label": `Enabled: ${a.name}`,
      });
      toggle.addEventListener("change", async () => {
        try {
          const { automation } = await api(`/api/automations/${encodeURIComponent(a.id)}`, {
            method: "PATCH",
            body: { enabled: toggle.checked },
            schema: automationBodySchema,
          });
          Object.assign(a, automation);
          if (!automation.suspendedReason) delete a.suspendedReason;
          status.textContent = `${a.name} is ${a.enabled ? "enabled" : "disabled"}.`;
        } catch (err) {
          toggle.checked = a.enabled;
          status.textContent = messageOf(err);
        }
        state.textContent = stateText(a);
        state.className = a.suspendedReason ? "error" : "muted";
      });
      const run = h("button", { type: "button", "aria-label": `Run ${a.name}` }, "Run");
      run.addEventListener("click", () => void runNow(a, last).then(() => showLastRun(a.id)));
      const el = h(
        "li",
        { class: "row-item automation", "data-automation": a.id },
        h(
          "div",
          { class: "grow" },
          h("a", { href: `/automations/${encodeURIComponent(a.id)}` }, h("strong", {}, a.name)),
          " · ",
          state,
          h("small", { class: "muted summary" }, describeAutomation(a)),
          last,
        ),
        admin ? h("span", { class: "toggle" }, toggle, h("label", { for: toggle.id }, "Enabled")) : null,
        run,
      );
      return { el, last, state, toggle, a };
    }

    function onPush(push: Push) {
      if (!push.event.startsWith("automation.")) return;
      const data = push.data as { automationId: string; reason?: string; message?: string };
      const r = rows.get(data.automationId);
      if (!r) return;
      if (push.event === "automation.suspended") {
        r.a.enabled = false;
        r.a.suspendedReason = data.reason;
        r.toggle.checked = false;
        r.state.textContent = stateText(r.a);
        r.state.className = "error";
      } else if (push.event === "automation.notify") {
        status.textContent = `${r.a.name}: ${data.message}`;
      } else void showLastRun(data.automationId);
    }

    const unsubscribe = liveSubscribe("automations", undefined, onPush);
    // Back after the station went away: pushes were missed, read everything again.
    let wasDown = false;
    const offState = onConnectionState((state) => {
      if (state === "reconnecting") wasDown = true;
      else if (state === "open" && wasDown) {
        wasDown = false;
        void load();
      }
    });
    void load();
    return () => {
      stopped = true;
      unsubscribe();
      offState();
      for (const t of timers) clearTimeout(t);
    };
  },
};
