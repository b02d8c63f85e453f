/**
 * Create or edit an automation (admin): a form for the common cases (a name, one trigger, an
 * optional condition, actions, the mode) and a raw-JSON editor for everything else. Nothing is
 * checked here: the station validates (devices exist, the command is the type's, params) and
 * its VALIDATION_ERROR is shown next to the form, with each failing field.
 */
import {
  type AutomationAction as Action,
  type Automation,
  automationBodySchema,
  type DeviceTypeInfo,
  deviceTypesSchema,
} from "../../protocol/index.ts";
import { ApiError, api, messageOf } from "./api.ts";
import { actionEditor } from "./automation-action.ts";
import { conditionEditor, type Editor, triggerEditor } from "./automation-parts.ts";
import { devicesLoaded, loadDevices } from "./device-store.ts";
import { field, h } from "./dom.ts";

let typesCache: DeviceTypeInfo[] | undefined;

/** Whether the form can show it all; if not, it opens as JSON so nothing is lost on save. */
function formCovers(a: Automation): boolean {
  const [t] = a.triggers;
  const [c] = a.conditions;
  return (
    a.triggers.length === 1 &&
    t?.type !== "device_event" &&
    !(t?.type === "time" && t.catchUp !== undefined) &&
    a.conditions.length <= 1 &&
    !(c?.type === "time" && c.days) &&
    a.actions.every((x) => x.type !== "module_event")
  );
}

/** The station's refusal as text, with each failing field from its details. */
function explain(err: unknown): string[] {
  if (!(err instanceof ApiError)) return [messageOf(err)];
  const d = err.details as { issues?: unknown } | unknown[] | undefined;
  const issues = (
    Array.isArray(d)
      ? d
      : Array.isArray((d as { issues?: unknown })?.issues)
        ? (d as { issues: unknown[] }).issues
        : []
  ) as {
    path?: string;
    message?: string;
  }[];
  const lines = issues.map((i) => `${i.path || "body"}: ${i.message}`).filter((l) => l !== err.message);
  return [`${err.code}: ${err.message}`, ...lines];
}

function showError(box: HTMLElement, err: unknown) {
  const [first, ...rest] = explain(err);
  box.replaceChildren(
    h("strong", {}, "Not saved. "),
    first ?? "",
    rest.length ? h("ul", {}, ...rest.map((r) => h("li", {}, r))) : "",
  );
}

/** The form for `existing` (or a new automation); `onSaved` gets what the station stored. */
export async function automationForm(
  existing: Automation | undefined,
  onSaved: (a: Automation) => void,
): Promise<HTMLElement> {
  if (!devicesLoaded()) await loadDevices();
  typesCache ??= (await api("/api/device-types", { schema: deviceTypesSchema })).deviceTypes;
  const types = typesCache;

  const name = h("input", { type: "text", value: existing?.name ?? "", maxLength: 100, autocomplete: "off" });
  const mode = h(
    "select",
    {},
    ...[
      ["single", "single (ignore while running)"],
      ["restart", "restart (start over)"],
      ["queued", "queued (wait in line)"],
    ].map(([v, l]) => h("option", { value: v, selected: (existing?.mode ?? "single") === v }, l)),
  );
  const trigger = triggerEditor(existing?.triggers[0]);
  const condition = conditionEditor(existing?.conditions[0]);
  const actionsBox = h("div");
  let actions: Editor<Action>[] = [];
  const renderActions = (list: (Action | undefined)[]) => {
    actions = list.map((a, i) =>
      actionEditor(i + 1, a, types, () => {
        const current = actions.map((e) => e.value());
        current.splice(i, 1);
        renderActions(current);
      }),
    );
    actionsBox.replaceChildren(...actions.map((e) => e.el));
  };
  renderActions(existing ? existing.actions : [undefined]);
  const addAction = h(
    "button",
    { type: "button", onclick: () => renderActions([...actions.map((e) => e.value()), undefined]) },
    "Add action",
  );

  const formError = h("div", { class: "error", role: "alert", id: "automation-form-error" });
  const covered = !existing || formCovers(existing);
  const fields = h(
    "div",
    { hidden: !covered },
    field("Name", name),
    trigger.el,
    condition.el,
    h("fieldset", {}, h("legend", {}, "Actions, in order"), actionsBox, h("p", {}, addAction)),
    field("Mode", mode, "What a new trigger does while a run is in progress."),
    formError,
    h("p", {}, h("button", { type: "submit" }, existing ? "Save changes" : "Create automation")),
  );
  const formValue = () => {
    const c = condition.value();
    return {
      name: name.value,
      mode: mode.value,
      triggers: [trigger.value()],
      conditions: c ? [c] : [],
      actions: actions.map((e) => e.value()),
    };
  };
  const save = async (body: unknown, errorBox: HTMLElement) => {
    errorBox.replaceChildren();
    try {
      const { automation } = await api(
        existing ? `/api/automations/${encodeURIComponent(existing.id)}` : "/api/automations",
        {
          method: existing ? "PATCH" : "POST",
          body,
          schema: automationBodySchema,
        },
      );
      onSaved(automation);
    } catch (err) {
      showError(errorBox, err);
    }
  };
  const form = h(
    "form",
    { class: "card", noValidate: true, "aria-label": existing ? `Edit ${existing.name}` : "New automation" },
    covered
      ? null
      : h(
          "p",
          {},
          "This automation uses parts the form does not cover (several triggers or conditions, device events, catch-up, module events): edit it as JSON below.",
        ),
    fields,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void save(formValue(), formError);
  });
  return h("div", {}, form, jsonEditor(existing, covered ? formValue : undefined, save));
}

/** The raw JSON, sent as typed: anything the schema allows (docs/automations.md). */
function jsonEditor(
  existing: Automation | undefined,
  fromForm: (() => unknown) | undefined,
  save: (body: unknown, errorBox: HTMLElement) => Promise<void>,
) {
  const text = h("textarea", { rows: 14, spellcheck: false, class: "json" });
  const error = h("div", { class: "error", role: "alert" });
  const stored = existing
    ? {
        name: existing.name,
        enabled: existing.enabled,
        mode: existing.mode,
        triggers: existing.triggers,
        conditions: existing.conditions,
        actions: existing.actions,
      }
    : undefined;
  const details = h(
    "details",
    { class: "card", open: !fromForm },
    h("summary", {}, "Edit as JSON"),
    field("Automation JSON", text, "The shape in docs/automations.md; the station checks it on save."),
    error,
    h("p", {}, h("button", { type: "button" }, "Save JSON")),
  );
  const fill = () => {
    text.value = JSON.stringify(fromForm ? fromForm() : stored, null, 2);
  };
  if (!fromForm) fill();
  details.addEventListener("toggle", () => {
    if (details.open && fromForm) fill();
  });
  details.querySelector("button")!.addEventListener("click", () => {
    let body: unknown;
    try {
      body = JSON.parse(text.value);
    } catch (err) {
      error.replaceChildren(`Not valid JSON: ${messageOf(err)}`);
      return;
    }
    void save(body, error);
  });
  return details;
}
