/**
 * The form's pieces: one trigger and one optional condition (actions: automation-action.ts).
 * Each editor reads back what the form shows; the station validates it (errors shown by the
 * form).
 */
import type { AutomationCondition as Condition, AutomationTrigger as Trigger } from "../../protocol/index.ts";
import { DAY_LABELS, dayName, OPS } from "./automation-text.ts";
import { allDevices } from "./device-store.ts";
import { field, h } from "./dom.ts";

export interface Editor<T> {
  el: HTMLElement;
  value(): T;
}

export function options(select: HTMLSelectElement, list: [string, string][], selected?: string) {
  select.replaceChildren(
    ...list.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  );
  return select;
}

export function deviceSelect(selected?: string) {
  const list = allDevices()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((d): [string, string] => [d.id, `${d.name} (${d.type})`]);
  return options(h("select", {}), [["", "Choose a device"], ...list], selected);
}

/** Text the user typed as the value JSON would carry: true/false, a number, else the text. */
export function parseScalar(text: string): string | number | boolean | null | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (t === "true" || t === "false") return t === "true";
  if (t === "null") return null;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}
const scalarText = (v: unknown) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** Device, state key, comparison and value, as triggers and conditions share them. */
function stateFields(
  prefix: string,
  init: { deviceId?: string; key?: string; op?: string; value?: unknown },
  ops: string[],
) {
  const device = deviceSelect(init.deviceId);
  const key = h("input", { type: "text", value: init.key ?? "", autocomplete: "off", maxLength: 64 });
  const op = options(
    h("select", {}),
    ops.map((o): [string, string] => [o, OPS[o]!]),
    init.op ?? "eq",
  );
  const value = h("input", { type: "text", value: scalarText(init.value), autocomplete: "off" });
  const el = h(
    "div",
    {},
    field(`${prefix} device`, device),
    field(`${prefix} state key`, key, "e.g. motion, power, temperature"),
    field(`${prefix} comparison`, op),
    field(`${prefix} value`, value, "true, false, a number or text"),
  );
  const read = () => {
    const v = parseScalar(value.value);
    return {
      deviceId: device.value,
      key: key.value.trim(),
      op: op.value,
      ...(v === undefined ? {} : { value: v }),
    };
  };
  return { el, device, op, value, read };
}

function daysBox(legend: string, selected: (string | number)[] = []) {
  const chosen = new Set(selected.map(dayName));
  const boxes = DAY_LABELS.map(([value, label]) => {
    const box = h("input", {
      type: "checkbox",
      value,
      checked: chosen.has(value),
      id: `d-${Math.random().toString(36).slice(2, 9)}`,
    });
    return { box, el: h("span", { class: "day" }, box, h("label", { for: box.id }, label)) };
  });
  const el = h("fieldset", { class: "days" }, h("legend", {}, legend), ...boxes.map((b) => b.el));
  const read = () => boxes.filter((b) => b.box.checked).map((b) => b.box.value as "mon");
  return { el, read };
}

const TRIGGER_KINDS: [string, string][] = [
  ["state", "a device's state matches"],
  ["status", "a device goes online or offline"],
  ["at", "a time of day"],
  ["cron", "a cron schedule (seconds first)"],
];

export function triggerEditor(t: Trigger | undefined): Editor<Trigger> {
  const initKind = !t
    ? "state"
    : t.type === "device_status"
      ? "status"
      : t.type === "time"
        ? "cron" in t
          ? "cron"
          : "at"
        : "state";
  const kind = options(h("select", {}), TRIGGER_KINDS, initKind);
  const state = stateFields("When", t?.type === "device_state" ? t : {}, Object.keys(OPS));
  const statusDevice = deviceSelect(t?.type === "device_status" ? t.deviceId : undefined);
  const online = options(
    h("select", {}),
    [
      ["true", "goes online"],
      ["false", "goes offline"],
    ],
    t?.type === "device_status" && !t.online ? "false" : "true",
  );
  const status = h("div", {}, field("Which device", statusDevice), field("When it", online));
  const atInit = t?.type === "time" && "at" in t ? t : undefined;
  const atTime = h("input", { type: "time", value: atInit?.at ?? "07:00" });
  const atDays = daysBox("On days (none: every day)", atInit?.days);
  const at = h("div", {}, field("At (HH:MM)", atTime), atDays.el);
  const cronText = h("input", {
    type: "text",
    value: t?.type === "time" && "cron" in t ? t.cron : "0 0 7 * * *",
    spellcheck: false,
  });
  const cron = h(
    "div",
    {},
    field("Cron expression", cronText, "sec min hour day month weekday, e.g. 0 */15 7-9 * * mon-fri"),
  );
  const groups: Record<string, HTMLElement> = { state: state.el, status, at, cron };
  const show = () => {
    for (const [k, g] of Object.entries(groups)) g.hidden = k !== kind.value;
  };
  kind.addEventListener("change", show);
  show();
  const el = h("fieldset", {}, h("legend", {}, "Trigger"), field("When", kind), state.el, status, at, cron);
  return {
    el,
    value(): Trigger {
      switch (kind.value) {
        case "status":
          return { type: "device_status", deviceId: statusDevice.value, online: online.value === "true" };
        case "at": {
          const days = atDays.read();
          return { type: "time", at: atTime.value, ...(days.length ? { days } : {}) };
        }
        case "cron":
          return { type: "time", cron: cronText.value.trim() };
        default:
          return { type: "device_state", ...state.read() } as Trigger;
      }
    },
  };
}

export function conditionEditor(c: Condition | undefined): Editor<Condition | undefined> {
  const kind = options(
    h("select", {}),
    [
      ["none", "always (no condition)"],
      ["state", "a device's state matches"],
      ["time", "it is within a time window"],
    ],
    !c ? "none" : c.type === "time" ? "time" : "state",
  );
  const state = stateFields("Only if", c?.type === "device_state" ? c : {}, [
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
  ]);
  const tc = c?.type === "time" ? c : undefined;
  const after = h("input", { type: "time", value: tc?.after ?? "" });
  const before = h("input", { type: "time", value: tc?.before ?? "" });
  const time = h(
    "div",
    {},
    field("After (HH:MM)", after),
    field("Before (HH:MM)", before, "Later than “after” wraps past midnight."),
  );
  const show = () => {
    state.el.hidden = kind.value !== "state";
    time.hidden = kind.value !== "time";
  };
  kind.addEventListener("change", show);
  show();
  const el = h("fieldset", {}, h("legend", {}, "Condition"), field("Only if", kind), state.el, time);
  return {
    el,
    value(): Condition | undefined {
      if (kind.value === "none") return undefined;
      if (kind.value === "time")
        return {
          type: "time",
          ...(after.value ? { after: after.value } : {}),
          ...(before.value ? { before: before.value } : {}),
        };
      return { type: "device_state", ...state.read() } as Condition;
    },
  };
}
