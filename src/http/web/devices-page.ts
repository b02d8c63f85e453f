/** The home page: every device, grouped by type, live. */

import { messageOf } from "./api.ts";
import { createDeviceCard, type DeviceCard } from "./device-card.ts";
import { typeHeading } from "./device-state.ts";
import { allDevices, devicesLoaded, getDevice, loadDevices, onDevicesChanged } from "./device-store.ts";
import { h } from "./dom.ts";
import type { Page } from "./router.ts";
import { hasRole } from "./session.ts";

const TYPE_ORDER = ["light", "switch", "climate", "sensor", "pir"];

export const devicesPage: Page = {
  title: "Devices",
  access: "signed-in",
  render(view) {
    const error = h("p", { class: "error", role: "alert" });
    const empty = h(
      "p",
      { class: "muted", hidden: true },
      "No devices yet. ",
      hasRole("admin") ? h("a", { href: "/pair" }, "Pair one over Bluetooth") : "An admin can pair one",
      ", or add one with ",
      h("code", {}, "opengenie device add"),
      ".",
    );
    const groups = h("div", { id: "devices" });
    view.append(h("h2", {}, "Devices"), error, empty, groups);

    const cards = new Map<string, DeviceCard>();
    const lists = new Map<string, HTMLUListElement>();

    function listFor(type: string): HTMLUListElement {
      let ul = lists.get(type);
      if (ul) return ul;
      const headingId = `group-${type}`;
      ul = h("ul", { class: "devices", "aria-labelledby": headingId });
      lists.set(type, ul);
      const section = h(
        "section",
        { class: "group", "data-type": type },
        h("h2", { id: headingId }, typeHeading(type)),
        ul,
      );
      // Known types first in a fixed order, then the others alphabetically.
      const rank = (t: string) => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : 100);
      const next = [...groups.children].find((el) => {
        const other = (el as HTMLElement).dataset.type ?? "";
        return rank(other) > rank(type) || (rank(other) === rank(type) && other > type);
      });
      groups.insertBefore(section, next ?? null);
      return ul;
    }

    function sync(changedId?: string) {
      const ids = changedId ? [changedId] : allDevices().map((d) => d.id);
      if (!changedId) {
        for (const [id, card] of cards) {
          if (!getDevice(id)) {
            card.el.remove();
            cards.delete(id);
          }
        }
      }
      for (const id of ids) {
        const d = getDevice(id);
        const card = cards.get(id);
        if (!d) {
          card?.el.remove();
          cards.delete(id);
        } else if (card) card.update(d);
        else {
          const made = createDeviceCard(d);
          cards.set(id, made);
          const ul = listFor(d.type);
          const after = [...ul.children].find((el) => (el.querySelector("h3")?.textContent ?? "") > d.name);
          ul.insertBefore(made.el, after ?? null);
        }
      }
      for (const [type, ul] of lists) {
        if (ul.children.length === 0) {
          ul.parentElement?.remove();
          lists.delete(type);
        }
      }
      empty.hidden = !devicesLoaded() || cards.size > 0;
    }

    const off = onDevicesChanged(sync);
    sync();
    loadDevices().catch((err) => {
      error.textContent = messageOf(err);
    });
    // Last-seen times age while the page is open.
    const timer = setInterval(() => {
      for (const [id, card] of cards) {
        const d = getDevice(id);
        if (d) card.update(d);
      }
    }, 15_000);
    return () => {
      off();
      clearInterval(timer);
    };
  },
};
