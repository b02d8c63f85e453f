/**
 * The web app's script (bundled for the browser by `bun build.ts --web` into
 * app-script.generated.ts). REST for reads and commands; the typed /ws client from src/client
 * for live updates, with its reconnect and resubscribe.
 */
// First: zod must be jitless before any schema is built (CSP without 'unsafe-eval').
import "../../protocol/zod-jitless.ts";
import { createStationClient, type Push, type StationClient } from "../../client/index.ts";
import { type Device, deviceListSchema, errorBodySchema } from "../../protocol/index.ts";

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const tokenKey = "opengenie.token";
const devices = new Map<string, Device>();
let client: StationClient | undefined;

/** The response body, to be parsed by the caller; a failure throws the station's error message. */
async function api(path: string, init: RequestInit = {}): Promise<unknown> {
  const token = sessionStorage.getItem(tokenKey);
  const res = await fetch(path, {
    ...init,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const body: unknown = await res.json();
  if (res.status === 401 && token) signOut("Your session ended; sign in again.");
  if (!res.ok) {
    const error = errorBodySchema.safeParse(body);
    throw new Error(error.success ? error.data.error.message : `request failed (${res.status})`);
  }
  return body;
}

function command(id: string, action: string, params?: Record<string, unknown>) {
  api(`/api/devices/${encodeURIComponent(id)}/commands?wait=5000`, {
    method: "POST",
    body: JSON.stringify({ action, ...(params ? { params } : {}) }),
  }).then(
    () => {
      $("home-error").textContent = "";
    },
    (err: Error) => {
      $("home-error").textContent = err.message;
    },
  );
}

function control(label: string, input: HTMLInputElement): HTMLLabelElement {
  const row = document.createElement("label");
  row.className = "control";
  row.append(label, input);
  return row;
}

interface InputProps {
  checked?: boolean;
  disabled: boolean;
  min?: string;
  max?: string;
  step?: string;
  value?: string;
}

function input(type: string, props: InputProps, onChange: (el: HTMLInputElement) => void) {
  const el = document.createElement("input");
  el.type = type;
  el.disabled = props.disabled;
  if (props.checked !== undefined) el.checked = props.checked;
  if (props.min !== undefined) el.min = props.min;
  if (props.max !== undefined) el.max = props.max;
  if (props.step !== undefined) el.step = props.step;
  if (props.value !== undefined) el.value = props.value;
  el.addEventListener("change", () => onChange(el));
  return el;
}

function renderDevice(d: Device) {
  let li = document.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(d.id)}"]`);
  if (!li) {
    li = document.createElement("li");
    li.className = "device card";
    li.dataset.id = d.id;
    $("devices").append(li);
  }
  const title = Object.assign(document.createElement("h2"), { textContent: d.name });
  const meta = Object.assign(document.createElement("div"), { className: "meta" });
  const dot = Object.assign(document.createElement("span"), { className: `dot${d.online ? " online" : ""}` });
  meta.append(dot, `${d.online ? "online" : "offline"} · ${d.type}`);
  li.replaceChildren(title, meta);
  const s = d.state ?? {};
  const disabled = !d.online;
  if (d.type === "light" || d.type === "switch") {
    const power = input("checkbox", { checked: s.power === "on", disabled }, (el) =>
      command(d.id, el.checked ? "turn_on" : "turn_off"),
    );
    power.setAttribute("role", "switch");
    li.append(control("Power", power));
  }
  if (d.type === "light") {
    const value = String(s.brightness ?? 0);
    const brightness = input("range", { min: "0", max: "100", value, disabled }, (el) =>
      command(d.id, "set_brightness", { brightness: Number(el.value) }),
    );
    li.append(control("Brightness", brightness));
  }
  if (d.type === "climate") {
    const value = String(s.target_celsius ?? 21);
    const target = input("number", { step: "0.5", value, disabled }, (el) =>
      command(d.id, "set_target", { celsius: Number(el.value) }),
    );
    li.append(control("Target °C", target));
  }
  const readings = Object.entries(s).filter(([k]) => !["power", "brightness"].includes(k));
  if (readings.length) {
    const text = readings
      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
      .join(" · ");
    li.append(Object.assign(document.createElement("div"), { className: "reading", textContent: text }));
  }
  $("empty").hidden = devices.size > 0;
}

function upsert(id: string, patch: Partial<Device>) {
  const d = devices.get(id);
  if (!d) return;
  Object.assign(d, patch);
  renderDevice(d);
}

function onPush(push: Push) {
  if (push.event === "device.state") upsert(push.data.deviceId, { state: push.data.state });
  if (push.event === "device.status")
    upsert(push.data.deviceId, { online: push.data.online, lastSeen: push.data.at });
  if (push.event === "device.added") {
    devices.set(push.data.device.id, push.data.device);
    renderDevice(push.data.device);
  }
  if (push.event === "device.removed") {
    devices.delete(push.data.deviceId);
    document.querySelector(`li[data-id="${CSS.escape(push.data.deviceId)}"]`)?.remove();
    $("empty").hidden = devices.size > 0;
  }
}

async function load() {
  try {
    const { devices: list } = deviceListSchema.parse(await api("/api/devices"));
    devices.clear();
    $("devices").replaceChildren();
    for (const d of list) devices.set(d.id, d);
    for (const d of list) renderDevice(d);
    $("empty").hidden = list.length > 0;
  } catch (err) {
    $("home-error").textContent = (err as Error).message;
  }
}

async function connect() {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) return;
  client = createStationClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`,
    token,
  });
  client.onStateChange((state) => {
    $("connection").textContent = state === "open" ? "live" : state === "reconnecting" ? "reconnecting…" : "";
    // After a reconnect the list is reloaded, in case pushes were missed while away.
    if (state === "open") void load();
    if (state === "failed") signOut("Your session ended; sign in again.");
  });
  $("connection").textContent = "connecting…";
  try {
    await client.connect();
    await client.subscribe("devices", undefined, onPush);
  } catch (err) {
    $("home-error").textContent = (err as Error).message;
  }
}

function showHome(signedIn: boolean) {
  $("sign-in").hidden = signedIn;
  $("home").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  if (!signedIn) $("connection").textContent = "";
}

function signOut(message = "") {
  sessionStorage.removeItem(tokenKey);
  client?.close();
  client = undefined;
  showHome(false);
  $("sign-in-error").textContent = message;
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const username = ($("username") as HTMLInputElement).value;
  const password = $("password") as HTMLInputElement;
  try {
    const res = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: password.value }),
    });
    const body = (await res.json()) as { accessToken?: string; error?: { message: string } };
    if (!res.ok || !body.accessToken) throw new Error(body.error?.message ?? "sign-in failed");
    sessionStorage.setItem(tokenKey, body.accessToken);
    password.value = "";
    showHome(true);
    await load();
    await connect();
  } catch (err) {
    $("sign-in-error").textContent = (err as Error).message;
  }
});

$("sign-out").addEventListener("click", async () => {
  await api("/api/auth/logout", { method: "POST", body: "{}" }).catch(() => {});
  signOut();
});

if (sessionStorage.getItem(tokenKey)) {
  showHome(true);
  void load().then(connect);
}
