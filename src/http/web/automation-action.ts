/**
 * The form's action editor: a device command picked from the device's commands (its driver's
 * catalog, else its type's from `/api/device-types`) with inputs for its params, a delay, or a
 * notification.
 */
import type { AutomationAction as Action, Device, DeviceTypeInfo } from "../../protocol/index.ts";
import { deviceSelect, type Editor, options } from "./automation-parts.ts";
import { allDevices } from "./device-store.ts";
import { field, h } from "./dom.ts";

interface CommandInfo {
  action: string;
  params: unknown;
}
/** The commands a device takes: its driver's catalog, else its type's (`/api/device-types`). */
function commandsOf(device: Device | undefined, types: DeviceTypeInfo[]): CommandInfo[] {
  if (!device) return [];
  if (device.commands) return device.commands.map((c) => ({ action: c.action, params: c.params }));
  return types.find((t) => t.type === device.type)?.commands ?? [];
}

/** Inputs for a command's params from its JSON Schema's properties (numbers, booleans, text). */
function paramInputs(label: string, schema: unknown, init: Record<string, unknown> = {}) {
  const props =
    (schema &&
      typeof schema === "object" &&
      (schema as { properties?: Record<string, Record<string, unknown>> }).properties) ||
    {};
  const inputs = Object.entries(props).map(([name, p]) => {
    const numeric = p.type === "number" || p.type === "integer";
    const input =
      p.type === "boolean"
        ? h("input", { type: "checkbox", checked: init[name] === true })
        : h("input", {
            type: numeric ? "number" : "text",
            value: init[name] === undefined ? "" : String(init[name]),
            ...(numeric && p.minimum !== undefined ? { min: String(p.minimum) } : {}),
            ...(numeric && p.maximum !== undefined ? { max: String(p.maximum) } : {}),
          });
    return { name, input, numeric, el: field(`${label} ${name}`, input) };
  });
  const read = () => {
    const out: Record<string, unknown> = {};
    for (const { name, input, numeric } of inputs) {
      if (input.type === "checkbox") out[name] = input.checked;
      else if (input.value !== "") out[name] = numeric ? Number(input.value) : input.value;
    }
    return out;
  };
  return { els: inputs.map((i) => i.el), read };
}

export function actionEditor(
  n: number,
  a: Action | undefined,
  types: DeviceTypeInfo[],
  onRemove: () => void,
): Editor<Action> {
  const label = `Action ${n}`;
  const kind = options(
    h("select", {}),
    [
      ["device_command", "send a command"],
      ["delay", "wait"],
      ["notify", "notify"],
    ],
    a?.type ?? "device_command",
  );
  const cmd = a?.type === "device_command" ? a : undefined;
  const device = deviceSelect(cmd?.deviceId);
  const command = h("select", {});
  const params = h("div");
  let readParams = () => ({}) as Record<string, unknown>;
  const fillCommands = (selected?: string) => {
    const list = commandsOf(
      allDevices().find((d) => d.id === device.value),
      types,
    );
    options(
      command,
      [
        ["", "Choose a command"],
        ...list.map((c): [string, string] => [c.action, c.action.replace(/_/g, " ")]),
      ],
      selected,
    );
    fillParams(selected === cmd?.action ? cmd?.params : undefined);
  };
  const fillParams = (init?: Record<string, unknown>) => {
    const info = commandsOf(
      allDevices().find((d) => d.id === device.value),
      types,
    ).find((c) => c.action === command.value);
    const p = paramInputs(label, info?.params, init);
    params.replaceChildren(...p.els);
    readParams = p.read;
  };
  device.addEventListener("change", () => fillCommands());
  command.addEventListener("change", () => fillParams());
  fillCommands(cmd?.action);
  const commandGroup = h(
    "div",
    {},
    field(`${label} device`, device),
    field(`${label} command`, command),
    params,
  );
  const seconds = h("input", {
    type: "number",
    min: "0",
    step: "any",
    value: a?.type === "delay" ? String(a.ms / 1000) : "5",
  });
  const delay = h("div", {}, field(`${label} seconds`, seconds));
  const message = h("input", { type: "text", value: a?.type === "notify" ? a.message : "", maxLength: 1000 });
  const notify = h("div", {}, field(`${label} message`, message));
  const show = () => {
    commandGroup.hidden = kind.value !== "device_command";
    delay.hidden = kind.value !== "delay";
    notify.hidden = kind.value !== "notify";
  };
  kind.addEventListener("change", show);
  show();
  const remove = h("button", { type: "button", class: "danger", onclick: onRemove }, `Remove action ${n}`);
  const el = h(
    "fieldset",
    {},
    h("legend", {}, label),
    field(`${label}: do`, kind),
    commandGroup,
    delay,
    notify,
    remove,
  );
  return {
    el,
    value(): Action {
      if (kind.value === "delay") return { type: "delay", ms: Math.round(Number(seconds.value) * 1000) };
      if (kind.value === "notify") return { type: "notify", message: message.value };
      const p = readParams();
      return {
        type: "device_command",
        deviceId: device.value,
        action: command.value,
        ...(Object.keys(p).length ? { params: p } : {}),
      };
    },
  };
}
