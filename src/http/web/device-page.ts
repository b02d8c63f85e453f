/**
 * One device: its controls, details, event history (newest first, paged with `before`,
 * refreshed as the device reports), and for admins rename and delete.
 */
import { type DeviceEvent, deviceBodySchema, deviceEventListSchema } from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { createDeviceCard } from "./device-card.ts";
import { describeEvent } from "./device-state.ts";
import { getDevice, onDevicesChanged } from "./device-store.ts";
import { ago, field, h } from "./dom.ts";
import { navigate, type Page } from "./router.ts";
import { hasRole } from "./session.ts";

const PAGE_SIZE = 20;

export const devicePage: Page = {
  title: "Device",
  access: "signed-in",
  render(view, { id = "" }) {
    const heading = h("h2", {}, getDevice(id)?.name ?? "Device");
    const error = h("p", { class: "error", role: "alert" });
    const body = h("div");
    view.append(h("p", {}, h("a", { href: "/" }, "← All devices")), heading, error, body);
    let stopped = false;
    let offStore = () => {};
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;

    api(`/api/devices/${encodeURIComponent(id)}`, { schema: deviceBodySchema }).then(
      ({ device }) => {
        if (stopped) return;
        const card = createDeviceCard(getDevice(id) ?? device, "section");
        const details = h("dl", { class: "details" });
        const showDetails = () => {
          const d = getDevice(id) ?? device;
          heading.textContent = d.name;
          document.title = `${d.name} · OpenGenie Station`;
          details.replaceChildren(
            ...[
              ["Type", d.type],
              ["Connection", d.transport],
              ["Firmware", d.firmwareVersion ?? "unknown"],
              ["Last seen", ago(d.lastSeen)],
              ["Added", new Date(d.createdAt).toLocaleString()],
            ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
          );
        };
        showDetails();
        const history = createHistory(id);
        body.append(card.el, details, history.el);
        if (hasRole("admin")) body.append(adminTools(id, device.name, heading));
        offStore = onDevicesChanged((changed) => {
          if (changed && changed !== id) return;
          const d = getDevice(id);
          if (!d) {
            error.textContent = "This device was deleted.";
            return;
          }
          card.update(d);
          showDetails();
          clearTimeout(refreshTimer);
          refreshTimer = setTimeout(() => history.refresh(), 300);
        });
      },
      (err) => {
        error.textContent = messageOf(err);
      },
    );
    return () => {
      stopped = true;
      offStore();
      clearTimeout(refreshTimer);
    };
  },
};

function createHistory(id: string) {
  const list = h("ol", { class: "history", "aria-labelledby": "history-heading" });
  const more = h("button", { type: "button", hidden: true }, "Show older events");
  const refreshButton = h("button", { type: "button", class: "secondary" }, "Refresh");
  const status = h("p", { class: "muted", role: "status" });
  const shown = new Set<number>();
  let oldest: number | undefined;

  const item = (e: DeviceEvent) =>
    h(
      "li",
      { "data-kind": e.kind },
      h("time", { dateTime: new Date(e.at).toISOString() }, new Date(e.at).toLocaleTimeString()),
      " ",
      describeEvent(e.kind, e.data),
    );

  async function fetchPage(before?: number) {
    const query = `limit=${PAGE_SIZE}${before === undefined ? "" : `&before=${before}`}`;
    return (
      await api(`/api/devices/${encodeURIComponent(id)}/events?${query}`, { schema: deviceEventListSchema })
    ).events;
  }

  async function older() {
    try {
      const events = await fetchPage(oldest);
      for (const e of events) {
        if (shown.has(e.id)) continue;
        shown.add(e.id);
        list.append(item(e));
      }
      if (events.length) oldest = events[events.length - 1]!.id;
      more.hidden = events.length < PAGE_SIZE;
      status.textContent = shown.size ? "" : "No events yet.";
    } catch (err) {
      status.textContent = messageOf(err);
    }
  }

  /** Puts events newer than those shown at the top. */
  async function refresh() {
    try {
      const fresh = (await fetchPage()).filter((e) => !shown.has(e.id));
      for (const e of fresh.reverse()) {
        shown.add(e.id);
        list.prepend(item(e));
      }
      if (oldest === undefined && shown.size) oldest = Math.min(...shown);
      status.textContent = shown.size ? "" : "No events yet.";
    } catch (err) {
      status.textContent = messageOf(err);
    }
  }

  more.addEventListener("click", () => void older());
  refreshButton.addEventListener("click", () => void refresh());
  void older();
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "history-heading" },
    h("div", { class: "row" }, h("h3", { id: "history-heading" }, "History"), refreshButton),
    list,
    status,
    more,
  );
  return { el, refresh };
}

function adminTools(id: string, name: string, heading: HTMLElement) {
  const nameInput = h("input", { type: "text", value: name, required: true, maxLength: 64 });
  const status = h("p", { class: "cmd", role: "status" });
  const rename = h(
    "form",
    {},
    field("Name", nameInput),
    h("p", {}, h("button", { type: "submit" }, "Rename")),
  );
  rename.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { device } = await api(`/api/devices/${encodeURIComponent(id)}`, {
        method: "PATCH",
        body: { name: nameInput.value },
        schema: deviceBodySchema,
      });
      heading.textContent = device.name;
      status.textContent = `Renamed to ${device.name}.`;
    } catch (err) {
      status.textContent = messageOf(err);
    }
  });
  const confirm = h("div", { class: "confirm", hidden: true });
  const remove = h("button", { type: "button", class: "danger", "aria-expanded": "false" }, "Delete device…");
  remove.addEventListener("click", () => {
    confirm.hidden = false;
    remove.setAttribute("aria-expanded", "true");
    confirm.querySelector("button")?.focus();
  });
  const yes = h("button", { type: "button", class: "danger" }, "Delete for good");
  const no = h("button", { type: "button", class: "secondary" }, "Cancel");
  yes.addEventListener("click", async () => {
    try {
      await api(`/api/devices/${encodeURIComponent(id)}`, { method: "DELETE" });
      navigate("/");
    } catch (err) {
      status.textContent = messageOf(err);
    }
  });
  no.addEventListener("click", () => {
    confirm.hidden = true;
    remove.setAttribute("aria-expanded", "false");
    remove.focus();
  });
  confirm.append(
    h("p", {}, "The device's credentials are revoked and it is disconnected at once."),
    yes,
    " ",
    no,
  );
  return h("section", { class: "card" }, h("h3", {}, "Manage"), rename, remove, confirm, status);
}
