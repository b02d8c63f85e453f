/**
 * Automations in words, for the list, the runs and the form: "When Hall PIR motion is true",
 * "Porch: turn on", "Scheduled for 23:00". Device names come from the live device store.
 */
import type {
  AutomationAction as Action,
  ActionOutcome,
  AutomationCondition as Condition,
  AutomationRun as Run,
  AutomationTrigger as Trigger,
} from "../../protocol/index.ts";
import { getDevice } from "./device-store.ts";

export const OPS: Record<string, string> = {
  eq: "is",
  ne: "is not",
  gt: "is above",
  gte: "is at least",
  lt: "is below",
  lte: "is at most",
  changed: "changes",
};

export const DAY_LABELS: [string, string][] = [
  ["mon", "Mon"],
  ["tue", "Tue"],
  ["wed", "Wed"],
  ["thu", "Thu"],
  ["fri", "Fri"],
  ["sat", "Sat"],
  ["sun", "Sun"],
];
const DAY_BY_NUMBER = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** A day as `mon`…`sun` whether it was stored as a name or a number (0 and 7 are Sunday). */
export const dayName = (d: string | number) => (typeof d === "number" ? DAY_BY_NUMBER[d]! : d);

export const deviceName = (id: string | undefined) =>
  id ? (getDevice(id)?.name ?? `device ${id}`) : "a device";

const shown = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
const days = (list: (string | number)[] | undefined) =>
  list ? ` on ${list.map(dayName).join(", ")}` : " every day";

export function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case "device_state":
      return t.op === "changed"
        ? `${deviceName(t.deviceId)} ${t.key} changes`
        : `${deviceName(t.deviceId)} ${t.key} ${OPS[t.op]} ${shown(t.value)}`;
    case "device_event":
      return `${deviceName(t.deviceId)} sends ${t.event ?? "an event"}`;
    case "device_status":
      return `${deviceName(t.deviceId)} goes ${t.online ? "online" : "offline"}`;
    case "time":
      return "cron" in t ? `cron ${t.cron}` : `at ${t.at}${days(t.days)}`;
  }
}

export function describeCondition(c: Condition): string {
  if (c.type === "device_state") return `${deviceName(c.deviceId)} ${c.key} ${OPS[c.op]} ${shown(c.value)}`;
  const window = [c.after ? `after ${c.after}` : "", c.before ? `before ${c.before}` : ""].filter(Boolean);
  return `${window.join(" and ") || "any time"}${c.days ? days(c.days) : ""}`;
}

export function describeAction(a: Action): string {
  switch (a.type) {
    case "device_command": {
      const params = a.params && Object.keys(a.params).length ? ` ${JSON.stringify(a.params)}` : "";
      return `${deviceName(a.deviceId)}: ${a.action.replace(/_/g, " ")}${params}`;
    }
    case "delay":
      return `wait ${a.ms / 1000} s`;
    case "notify":
      return `notify “${a.message}”`;
    case "module_event":
      return `event ${a.event} to modules`;
  }
}

/** "When …, if …: do …, then …" in one line. */
export function describeAutomation(a: { triggers: Trigger[]; conditions: Condition[]; actions: Action[] }) {
  const when = `When ${a.triggers.map(describeTrigger).join(" or ")}`;
  const only = a.conditions.length ? `, if ${a.conditions.map(describeCondition).join(" and ")}` : "";
  return `${when}${only}: ${a.actions.map(describeAction).join(", then ")}`;
}

export function describeRunTrigger(t: Run["trigger"]): string {
  switch (t.type) {
    case "manual":
      return "run by hand";
    case "time":
      return t.scheduledAt ? `scheduled for ${clock(t.scheduledAt)}` : "on time";
    case "device_status":
      return `${deviceName(t.deviceId)} went ${t.online ? "online" : "offline"}`;
    case "device_event":
      return `${deviceName(t.deviceId)} sent ${t.event ?? "an event"}`;
    case "device_state":
      return `${deviceName(t.deviceId)} ${t.key} = ${shown(t.value)}`;
  }
}

export function describeOutcome(o: ActionOutcome, action: Action | undefined): string {
  const what = action ? describeAction(action) : o.type;
  const took = `${Math.max(0, o.finishedAt - o.startedAt)} ms`;
  return o.ok ? `${what}: ok (${took})` : `${what}: failed${o.code ? ` (${o.code})` : ""}: ${o.error ?? ""}`;
}

export function runState(run: Run): string {
  if (run.ok === null) return "running";
  return run.ok ? "ok" : `failed${run.error ? `: ${run.error}` : ""}`;
}

export const clock = (at: number) => new Date(at).toLocaleTimeString([], { hour12: false });
