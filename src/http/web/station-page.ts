/**
 * The station (admin): version, uptime, the MQTT address firmware authors put in devices,
 * remote access, the cloud link, and who is connected right now.
 */
import { integrationListSchema, stationInfoSchema } from "../../protocol/index.ts";
import type { CloudStatus, ConnectionInfo } from "./admin-types.ts";
import { api, messageOf } from "./api.ts";
import { ago, h } from "./dom.ts";
import type { Page } from "./router.ts";

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hrs = Math.floor((s % 86_400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${hrs} h` : hrs ? `${hrs} h ${min} min` : `${min} min ${s % 60} s`;
}

const pairs = (rows: [string, string][]) =>
  h("dl", { class: "details" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));

export const stationPage: Page = {
  title: "Station",
  access: "admin",
  render(view) {
    const info = h(
      "section",
      { class: "card", "aria-labelledby": "info-h" },
      h("h3", { id: "info-h" }, "Station"),
    );
    const cloud = h(
      "section",
      { class: "card", "aria-labelledby": "cloud-h" },
      h("h3", { id: "cloud-h" }, "Cloud link"),
    );
    const conns = h(
      "section",
      { class: "card", "aria-labelledby": "conn-h" },
      h("h3", { id: "conn-h" }, "Connections"),
    );
    const integrations = h(
      "section",
      { class: "card", "aria-labelledby": "integrations-h" },
      h("h3", { id: "integrations-h" }, "Home Assistant and integrations"),
    );
    view.append(h("h2", {}, "Station"), info, cloud, integrations, conns);
    const fail = (box: HTMLElement) => (err: unknown) =>
      box.append(h("p", { class: "error" }, messageOf(err)));

    api("/api/station", { schema: stationInfoSchema }).then((s) => {
      info.append(
        pairs([
          ["Version", s.version],
          ["Station id", s.stationId],
          ["Runtime", s.runtime],
          ["Up for", duration(s.uptimeMs)],
          ["MQTT broker", `${s.mqtt.mode}, ${s.mqtt.connected ? "connected" : "not connected"}`],
          ["MQTT address for devices", `${s.mqtt.host}:${s.mqtt.port}`],
          ["Remote access", s.remoteAccess ? "on" : "off (local network only)"],
        ]),
      );
    }, fail(info));

    api("/api/integrations", { schema: integrationListSchema }).then((list) => {
      const ha = list.homeAssistant;
      integrations.append(
        pairs([["Home Assistant discovery", ha.enabled ? `on, prefix ${ha.prefix}` : "off"]]),
        list.integrations.length
          ? h(
              "ul",
              { class: "rows" },
              ...list.integrations.map((i) =>
                h(
                  "li",
                  {},
                  `${i.name}`,
                  h("small", { class: "muted" }, ` · MQTT user ${i.username}, added ${ago(i.createdAt)}`),
                ),
              ),
            )
          : h(
              "p",
              { class: "muted" },
              "No integration logins. Make one with: opengenie integration add <name>",
            ),
      );
    }, fail(integrations));

    api<CloudStatus>("/api/cloud/status").then((c) => {
      const state = !c.configured ? "not configured" : c.connected ? "connected" : "not connected";
      cloud.append(
        pairs([
          ["Status", state],
          ["Claimed", c.claimed ? "yes" : "no"],
          ...(c.lastError ? ([["Last error", c.lastError]] as [string, string][]) : []),
        ]),
      );
    }, fail(cloud));

    api<Record<string, ConnectionInfo[]>>("/api/connections").then((all) => {
      const names: Record<string, string> = {
        apps: "Apps",
        iot: "Wi-Fi devices (/ws/iot)",
        drivers: "Drivers",
        modules: "Modules",
      };
      for (const [key, title] of Object.entries(names)) {
        const list = all[key] ?? [];
        conns.append(h("h4", {}, `${title}: ${list.length}`));
        if (list.length)
          conns.append(
            h(
              "ul",
              { class: "rows" },
              ...list.map((c) =>
                h(
                  "li",
                  {},
                  `${c.principal ?? c.id} from ${c.remoteAddress}, since ${ago(c.connectedAt)}`,
                  h(
                    "small",
                    { class: "muted" },
                    ` · ${c.messagesIn} in, ${c.messagesOut} out${c.dropped ? `, ${c.dropped} dropped` : ""}`,
                  ),
                ),
              ),
            ),
          );
      }
    }, fail(conns));
    return undefined;
  },
};
