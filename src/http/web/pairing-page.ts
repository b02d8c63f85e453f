/**
 * Pairing over Bluetooth: while the page is open it subscribes to `provisioning` (the first
 * subscriber starts the scan), lists candidates live with their signal, asks the Wi-Fi name
 * and password, and follows the device until `provisioning.result` and it comes online.
 * Each failure says what to do next.
 */
import type { Push } from "../../client/index.ts";
import { deviceTypes } from "../../protocol/index.ts";
import { ApiError, api } from "./api.ts";
import { getDevice, onDevicesChanged } from "./device-store.ts";
import { field, h } from "./dom.ts";
import { explainBleUnavailable, explainPairingFailure } from "./pairing-help.ts";
import type { Page } from "./router.ts";
import { liveSubscribe } from "./session.ts";

interface Candidate {
  address: string;
  name: string;
  rssi: number;
}

const signal = (rssi: number) => (rssi >= -60 ? "strong" : rssi >= -75 ? "fair" : "weak");

export const pairingPage: Page = {
  title: "Pair a device",
  access: "admin",
  render(view) {
    const problem = h("div", { class: "problem", role: "alert" });
    const scanning = h("p", { class: "muted", role: "status" }, "Looking for devices in pairing mode…");
    const list = h("div", { class: "candidates" });
    const fieldset = h("fieldset", {}, h("legend", {}, "Devices nearby"), scanning, list);
    const name = h("input", { type: "text", required: true, maxLength: 64 });
    const type = h("select", {}, ...deviceTypes.map((t) => h("option", { value: t }, t)));
    const ssid = h("input", { type: "text", required: true, maxLength: 32, autocomplete: "off" });
    const password = h("input", { type: "password", maxLength: 64, autocomplete: "off" });
    const submit = h("button", { type: "submit" }, "Pair device");
    const progress = h("ol", { class: "progress", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "card" },
      fieldset,
      field("Name", name),
      field("Type", type),
      field("Wi-Fi name", ssid, "The 2.4 GHz network the device should join."),
      field("Wi-Fi password", password),
      h("p", {}, submit),
    );
    view.append(h("h2", {}, "Pair a device"), problem, form, progress);

    const rows = new Map<string, { radio: HTMLInputElement; text: HTMLElement }>();
    function showCandidate(c: Candidate) {
      let row = rows.get(c.address);
      if (!row) {
        const radio = h("input", { type: "radio", name: "candidate", value: c.address, required: true });
        radio.addEventListener("change", () => {
          if (!name.value || [...rows.keys()].some((a) => name.value === a)) name.value = c.name || c.address;
          const guess = deviceTypes.find((t) => c.name.toLowerCase().includes(t));
          if (guess) type.value = guess;
        });
        const text = h("span");
        row = { radio, text };
        rows.set(c.address, row);
        list.append(h("label", { class: "candidate" }, radio, text));
        if (rows.size === 1) {
          radio.checked = true;
          radio.dispatchEvent(new Event("change"));
        }
      }
      row.text.textContent = `${c.name || "(no name)"} · ${c.address} · signal ${c.rssi} dBm (${signal(c.rssi)})`;
      scanning.textContent = `${rows.size} device${rows.size === 1 ? "" : "s"} found; still looking…`;
    }

    // Outcomes by deviceId: a result may in theory arrive before the 202 that names it.
    const results = new Map<string, { ok: boolean; error?: string }>();
    let waiting: { deviceId: string; settle(r: { ok: boolean; error?: string }): void } | undefined;
    const offSub = liveSubscribe("provisioning", undefined, (push: Push) => {
      if (push.event === "provisioning.candidate") showCandidate(push.data);
      if (push.event === "provisioning.result") {
        results.set(push.data.deviceId, push.data);
        if (waiting?.deviceId === push.data.deviceId) waiting.settle(push.data);
      }
    });
    // The helper starts with the first subscriber; its state (e.g. no adapter) is polled while
    // nothing is found, so a station without Bluetooth says so instead of searching forever.
    let helperProblem = false;
    const checkHelper = () =>
      api<{ helper: { status: string; lastError?: { code: string; message: string } } }>(
        "/api/provisioning/candidates",
      ).then(
        ({ helper }) => {
          if (helper.status === "unavailable") {
            helperProblem = true;
            scanning.textContent = "Not scanning: Bluetooth is not usable.";
            showProblem(explainBleUnavailable(helper.lastError));
          } else if (helperProblem) {
            helperProblem = false;
            problem.replaceChildren();
          }
        },
        () => {},
      );
    const poll = setInterval(() => {
      if (rows.size === 0) void checkHelper();
    }, 2000);
    void checkHelper();

    function showProblem(p: { what: string; next: string }) {
      problem.replaceChildren(h("p", {}, h("strong", {}, p.what)), h("p", {}, "Next step: ", p.next));
    }
    function step(text: string, state: "doing" | "done" | "failed" = "doing") {
      const prev = progress.lastElementChild as HTMLElement | null;
      if (prev?.dataset.state === "doing") prev.dataset.state = "done";
      progress.append(h("li", { "data-state": state }, text));
    }

    let offOnline = () => {};
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const address = list.querySelector<HTMLInputElement>("input:checked")?.value;
      if (!address)
        return showProblem({
          what: "No device chosen.",
          next: "Put the device in pairing mode and wait for it to appear in the list.",
        });
      problem.replaceChildren();
      progress.replaceChildren();
      submit.disabled = true;
      step(`Sending the Wi-Fi details to ${name.value} over Bluetooth…`);
      try {
        const { deviceId } = await api<{ deviceId: string }>("/api/provisioning/add", {
          body: { address, ssid: ssid.value, password: password.value, name: name.value, type: type.value },
        });
        step("Waiting for the device to join the Wi-Fi and the station…");
        const result =
          results.get(deviceId) ??
          (await new Promise<{ ok: boolean; error?: string }>((settle) => {
            waiting = { deviceId, settle };
          }));
        waiting = undefined;
        if (!result.ok) {
          step("Pairing failed.", "failed");
          return showProblem(explainPairingFailure(result.error ?? "no reason given"));
        }
        step("The device joined. Waiting for it to come online…");
        await new Promise<void>((resolve) => {
          const check = () => {
            if (getDevice(deviceId)?.online) resolve();
          };
          offOnline = onDevicesChanged(check);
          check();
        });
        offOnline();
        step(`${name.value} is online.`, "done");
        progress.append(
          h("li", {}, h("a", { href: `/devices/${encodeURIComponent(deviceId)}` }, `Open ${name.value}`)),
        );
      } catch (err) {
        step("Pairing could not start.", "failed");
        if (err instanceof ApiError && err.code === "BLE_UNAVAILABLE")
          showProblem(explainBleUnavailable(err.details as { code?: string } | undefined, err.message));
        else
          showProblem({
            what: err instanceof Error ? err.message : String(err),
            next: "Check the fields and try again.",
          });
      } finally {
        submit.disabled = false;
      }
    });

    return () => {
      offSub();
      offOnline();
      clearInterval(poll);
      waiting = undefined;
    };
  },
};
