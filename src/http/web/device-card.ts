/**
 * One device as a card: name (a link to its page), online/offline, last seen, the controls
 * its type has (Power switch, Brightness, climate target) and a status line for commands.
 * Built once and updated in place, so keyboard focus stays on a control while pushes arrive.
 */
import type { Device } from "../../protocol/index.ts";
import { sendCommand } from "./command.ts";
import { powerIsOn, readings } from "./device-state.ts";
import { ago, h } from "./dom.ts";
import { hasRole } from "./session.ts";

export interface DeviceCard {
  el: HTMLElement;
  update(device: Device): void;
}

export function createDeviceCard(device: Device, tag: "li" | "section" = "li"): DeviceCard {
  const id = device.id;
  const canCommand = hasRole("member");
  const status = h("p", { class: "cmd", role: "status" });
  const title = h("a", { href: `/devices/${encodeURIComponent(id)}` });
  const dot = h("span", { class: "dot", "aria-hidden": "true" });
  const online = h("span");
  const lastSeen = h("span", { class: "muted" });
  const reading = h("div", { class: "reading" });
  const controls = h("div", { class: "controls" });
  const el = h(
    tag,
    { class: "device card", "data-id": id },
    h("h3", {}, title),
    h("div", { class: "meta" }, dot, online, " · ", device.type, " · ", lastSeen),
    controls,
    reading,
    status,
  );

  const command = (action: string, params?: Record<string, unknown>) =>
    sendCommand(id, action, params, status).then((outcome) => {
      // A refused command leaves the control showing the device's real state.
      if (outcome === "error") update(current);
    });

  let power: HTMLInputElement | undefined;
  let brightness: HTMLInputElement | undefined;
  let target: HTMLInputElement | undefined;
  if (device.type === "light" || device.type === "switch") {
    power = h("input", {
      type: "checkbox",
      role: "switch",
      onchange: () => command(power!.checked ? "turn_on" : "turn_off"),
    });
    controls.append(h("label", { class: "control" }, power, h("span", {}, "Power")));
  }
  if (device.type === "light") {
    brightness = h("input", {
      type: "range",
      min: "0",
      max: "100",
      step: "1",
      onchange: () => command("set_brightness", { brightness: Number(brightness!.value) }),
    });
    controls.append(h("label", { class: "control" }, h("span", {}, "Brightness"), brightness));
  }
  if (device.type === "climate") {
    target = h("input", {
      type: "number",
      step: "0.5",
      min: "5",
      max: "35",
      inputMode: "decimal",
      onchange: () => command("set_target", { celsius: Number(target!.value) }),
    });
    controls.append(h("label", { class: "control" }, h("span", {}, "Target °C"), target));
  }

  let current = device;
  function update(d: Device) {
    current = d;
    title.textContent = d.name;
    dot.className = `dot${d.online ? " online" : ""}`;
    online.textContent = d.online ? "online" : "offline";
    lastSeen.textContent = `last seen ${ago(d.lastSeen)}`;
    const disabled = !d.online || !canCommand;
    const s = d.state ?? {};
    if (power) {
      power.checked = powerIsOn(s.power);
      power.disabled = disabled;
    }
    if (brightness && document.activeElement !== brightness) {
      brightness.value = String(typeof s.brightness === "number" ? s.brightness : 0);
    }
    if (brightness) brightness.disabled = disabled;
    if (target && document.activeElement !== target) {
      target.value = String(typeof s.target_celsius === "number" ? s.target_celsius : 21);
    }
    if (target) target.disabled = disabled;
    reading.replaceChildren(
      ...readings(s).map((r) =>
        h("span", { class: "reading-item" }, `${r.label}: `, h("strong", {}, r.value)),
      ),
    );
  }
  update(device);
  return { el, update };
}
