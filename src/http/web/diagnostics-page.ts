/** Diagnostics (admin): the checks `opengenie doctor` runs, run by the station on itself. */
import { type DoctorCheck, doctorReportSchema } from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { h } from "./dom.ts";
import type { Page } from "./router.ts";

const LABEL: Record<DoctorCheck["status"], string> = {
  ok: "OK",
  warn: "Warning",
  fail: "Failed",
  skip: "Skipped",
};

export const diagnosticsPage: Page = {
  title: "Diagnostics",
  access: "admin",
  render(view) {
    const status = h("p", { class: "muted", role: "status" });
    const run = h("button", { type: "button" }, "Run checks");
    const list = h("ul", { class: "checks", "aria-label": "Checks" });
    view.append(h("h2", {}, "Diagnostics"), h("p", {}, run), status, list);

    async function runChecks() {
      run.disabled = true;
      status.textContent = "Running the checks…";
      try {
        const { checks } = await api("/api/doctor", { body: {}, schema: doctorReportSchema });
        list.replaceChildren(
          ...checks.map((c) =>
            h(
              "li",
              { class: `check ${c.status}`, "data-check": c.id },
              h("span", { class: "badge" }, LABEL[c.status] ?? c.status),
              h(
                "div",
                {},
                h("strong", {}, c.name),
                h("p", {}, c.detail),
                c.fix ? h("p", { class: "fix" }, "Fix: ", c.fix) : null,
              ),
            ),
          ),
        );
        const failed = checks.filter((c) => c.status === "fail").length;
        const warned = checks.filter((c) => c.status === "warn").length;
        status.textContent = `${checks.length} checks: ${failed} failed, ${warned} with warnings.`;
      } catch (err) {
        status.textContent = messageOf(err);
      } finally {
        run.disabled = false;
      }
    }
    run.addEventListener("click", () => void runChecks());
    void runChecks();
    return undefined;
  },
};
