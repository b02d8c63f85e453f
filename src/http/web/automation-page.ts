/**
 * One automation (`/automations/:id`, member and up): what it does, Run, its recent runs kept
 * live; for admins the edit form, the JSON editor and Delete. `/automations/new` (admin) is
 * the same form, empty.
 */
import type { Push } from "../../client/index.ts";
import { type Automation, automationBodySchema } from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { automationForm } from "./automation-form.ts";
import { runList } from "./automation-runs.ts";
import { describeAutomation } from "./automation-text.ts";
import { runNow, stateText } from "./automations-page.ts";
import { devicesLoaded, loadDevices } from "./device-store.ts";
import { h } from "./dom.ts";
import { navigate, type Page } from "./router.ts";
import { hasRole, liveSubscribe, onConnectionState } from "./session.ts";

const back = () => h("p", {}, h("a", { href: "/automations" }, "← All automations"));

export const newAutomationPage: Page = {
  title: "New automation",
  access: "admin",
  render(view) {
    const error = h("p", { class: "error", role: "alert" });
    view.append(back(), h("h2", {}, "New automation"), error);
    let stopped = false;
    automationForm(undefined, (a) => navigate(`/automations/${encodeURIComponent(a.id)}`)).then(
      (form) => {
        if (!stopped) view.append(form);
      },
      (err) => {
        error.textContent = messageOf(err);
      },
    );
    return () => {
      stopped = true;
    };
  },
};

export const automationPage: Page = {
  title: "Automation",
  access: "member",
  render(view, { id = "" }) {
    const heading = h("h2", {}, "Automation");
    const error = h("p", { class: "error", role: "alert" });
    const body = h("div");
    view.append(back(), heading, error, body);
    let stopped = false;
    let runs: ReturnType<typeof runList> | undefined;
    const notice = h("p", { class: "cmd", role: "status" });

    const show = async () => {
      if (!devicesLoaded()) await loadDevices();
      const { automation: a } = await api(`/api/automations/${encodeURIComponent(id)}`, {
        schema: automationBodySchema,
      });
      if (stopped) return;
      heading.textContent = a.name;
      document.title = `${a.name} · OpenGenie Station`;
      runs?.stop();
      runs = runList(a);
      const run = h("button", { type: "button" }, "Run now");
      const runStatus = h("p", { class: "cmd", role: "status" });
      run.addEventListener("click", () => void runNow(a, runStatus).then(() => runs?.refresh()));
      body.replaceChildren(
        h(
          "section",
          { class: "card" },
          h("p", { class: a.suspendedReason ? "error" : "muted" }, stateText(a)),
          h("p", {}, describeAutomation(a)),
          h("p", {}, run),
          runStatus,
          notice,
        ),
        runs.el,
      );
      if (hasRole("admin")) body.append(h("h3", {}, "Edit"), await automationForm(a, saved), deleteButton(a));
    };
    const saved = (a: Automation) => {
      void show().then(() => {
        notice.textContent = `${a.name} was saved.`;
      });
    };
    show().catch((err) => {
      error.textContent = messageOf(err);
    });

    const unsubscribe = liveSubscribe("automations", undefined, (push: Push) => {
      const data = push.data as { automationId?: string; reason?: string; message?: string };
      if (data.automationId !== id) return;
      if (push.event === "automation.suspended") notice.textContent = `Suspended: ${data.reason}`;
      else if (push.event === "automation.notify") notice.textContent = `Notice: ${data.message}`;
      void runs?.refresh();
    });
    const offState = onConnectionState((state) => {
      if (state === "open") void runs?.refresh();
    });
    return () => {
      stopped = true;
      runs?.stop();
      unsubscribe();
      offState();
    };
  },
};

function deleteButton(a: Automation) {
  const status = h("p", { class: "cmd", role: "status" });
  const remove = h("button", { type: "button", class: "danger" }, "Delete automation…");
  remove.addEventListener("click", async () => {
    if (remove.dataset.armed !== "yes") {
      remove.dataset.armed = "yes";
      remove.textContent = "Delete for good";
      return;
    }
    try {
      await api(`/api/automations/${encodeURIComponent(a.id)}`, { method: "DELETE" });
      navigate("/automations");
    } catch (err) {
      status.textContent = messageOf(err);
    }
  });
  return h("section", { class: "card" }, h("p", {}, remove), status);
}
