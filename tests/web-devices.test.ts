import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import {
  checkPage,
  hasChromium,
  launchBrowser,
  openPage,
  screenshot,
  type WatchedPage,
} from "./helpers/browser.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

// The devices pages in Debian's Chromium at 360×640: sign in, live cards, commands with the
// device's answer, history, a station restart, a revoked session. One browser, one page.
describe.skipIf(!hasChromium)("web app: devices", () => {
  const data = makeTempDir("opengenie-web-devices-");
  let s: TestStation;
  let browser: Browser;
  let w: WatchedPage;
  let page: Page;
  let admin: string;
  let lamp: SimulatedDevice;
  let faulty: SimulatedDevice;
  let plug: SimulatedDevice;
  let lampId: string;
  let plugId: string;
  const sims: SimulatedDevice[] = [];

  const card = (name: string) => page.locator("li.device", { hasText: name });

  beforeAll(async () => {
    s = await startTestStation({ dataDir: data.path });
    await s.addUser("webby", "member", "webby-password");
    admin = await s.userToken("web-admin", "admin");
    const l = await addDevice(s, admin, "Living room lamp", "light");
    lampId = l.device.id;
    lamp = simFor(l.credentials, "light");
    // Registered as a light, but its firmware only knows a switch's commands: a brightness
    // command gets a real error answer from the device.
    const f = await addDevice(s, admin, "Faulty lamp", "light");
    faulty = simFor(f.credentials, "switch");
    const p = await addDevice(s, admin, "Kettle plug", "switch");
    plugId = p.device.id;
    plug = simFor(p.credentials, "switch");
    sims.push(lamp, faulty, plug);
    await Promise.all(sims.map((d) => d.start()));
    browser = await launchBrowser();
    w = await openPage(browser);
    page = w.page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(sims.map((d) => d.stop()));
    await s?.stop();
    data.remove();
  });

  test("sign in: a wrong password is refused, the right one shows the devices grouped and online", async () => {
    await page.goto(`${s.url}/some/client/route`);
    await page.getByLabel("Username").fill("webby");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("wrong username or password").waitFor();
    await checkPage(page, "sign-in");

    // Keyboard only: type, Tab to the password, Enter submits.
    await page.getByLabel("Password").fill("");
    await page.getByLabel("Username").focus();
    await page.keyboard.press("Tab");
    await page.keyboard.type("webby-password");
    await page.keyboard.press("Enter");
    await card("Living room lamp").getByText("online").waitFor();
    await card("Kettle plug").getByText("online").waitFor();
    await page.getByRole("heading", { name: "Lights" }).waitFor();
    await page.getByRole("heading", { name: "Switches" }).waitFor();
    await page.getByText("live", { exact: true }).waitFor();
    await checkPage(page, "devices");
    // A member sees no admin pages.
    expect(await page.getByRole("link", { name: "Users" }).count()).toBe(0);
  }, 30_000);

  test("Power, by keyboard, reaches the device; its confirmation and new state come back", async () => {
    const power = card("Living room lamp").getByRole("switch", { name: "Power" });
    expect(await power.isChecked()).toBe(false);
    await power.press("Space");
    await card("Living room lamp")
      .getByRole("status")
      .getByText("Done: the device confirmed turn on.")
      .waitFor();
    // The simulator applies the command once its result is acknowledged, and the state report
    // follows the result: with the station in another process (Deno) the page can be quicker.
    await eventually(
      async () => lamp.state.power,
      (p) => p === "on",
    );
    await eventually(
      async () => (await getDevice(s, admin, lampId)).state.power,
      (p) => p === "on",
    );
    expect(await power.isChecked()).toBe(true);

    // A change made elsewhere shows up without a reload.
    await s.api(`/api/devices/${lampId}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "turn_off" }),
    });
    await eventually(
      () => power.isChecked(),
      (checked) => !checked,
    );
  }, 30_000);

  test("a device reporting power as true shows as on (CONTRACT.md section 3)", async () => {
    await plug.publishState({ power: true });
    const power = card("Kettle plug").getByRole("switch", { name: "Power" });
    await eventually(
      () => power.isChecked(),
      (checked) => checked,
    );
    await plug.publishState({ power: false });
    await eventually(
      () => power.isChecked(),
      (checked) => !checked,
    );
    expect(plugId).toBeTruthy();
  }, 30_000);

  test("a device that answers an error shows that error", async () => {
    const brightness = card("Faulty lamp").getByLabel("Brightness");
    await brightness.focus();
    await brightness.press("ArrowRight"); // a keyboard step on the slider fires change
    const status = card("Faulty lamp").getByRole("status");
    await status.getByText("Device error: unsupported action set_brightness").waitFor();
    await screenshot(page, "device-error");
  }, 30_000);

  test("the device page lists the commands and states just made, newest first", async () => {
    await card("Living room lamp").getByRole("link", { name: "Living room lamp" }).click();
    await page.getByRole("heading", { level: 2, name: "Living room lamp" }).waitFor();
    const history = page.locator("ol.history li");
    await history.filter({ hasText: "Command sent: turn_on" }).waitFor();
    await history.filter({ hasText: "Command sent: turn_off" }).waitFor();
    await history.filter({ hasText: "State: power on" }).first().waitFor();
    await history.filter({ hasText: "Device confirmed the command" }).first().waitFor();
    const texts = await history.allTextContents();
    // Newest first: the turn_off sent last comes before the turn_on sent first.
    const off = texts.findIndex((t) => t.includes("Command sent: turn_off"));
    const on = texts.findIndex((t) => t.includes("Command sent: turn_on"));
    expect(off).toBeLessThan(on);
    // A member may not rename or delete.
    expect(await page.getByRole("button", { name: "Rename" }).count()).toBe(0);
    await checkPage(page, "device-page");
  }, 30_000);

  test("dark mode follows the system, and passes axe too", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.getByRole("navigation").getByRole("link", { name: "Devices" }).click();
    await card("Living room lamp").waitFor();
    await checkPage(page, "devices-dark");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(18, 21, 29)");
    await page.emulateMedia({ colorScheme: "light" });
  }, 30_000);

  test("a station restart: the open page shows it is offline, then reconnects by itself", async () => {
    const port = new URL(s.url).port;
    const mqttPort = String(s.info.mqttPort);
    const banner = page.getByText("The station is offline. Reconnecting by itself…");
    const reloads: string[] = [];
    page.on("framenavigated", (f) => reloads.push(f.url()));
    await s.stop(); // the station object on Bun, its process on Deno
    await banner.waitFor();
    await screenshot(page, "offline-banner");
    s = await startTestStation({
      dataDir: data.path,
      env: { OPENGENIE_PORT: port, OPENGENIE_MQTT_PORT: mqttPort },
    });
    await banner.waitFor({ state: "hidden", timeout: 20_000 });
    await card("Living room lamp").getByText("online").waitFor({ timeout: 20_000 });
    const power = card("Living room lamp").getByRole("switch", { name: "Power" });
    await power.click();
    await card("Living room lamp")
      .getByRole("status")
      .getByText("Done: the device confirmed turn on.")
      .waitFor();
    await eventually(
      async () => lamp.state.power,
      (p) => p === "on",
    );
    expect(reloads).toEqual([]);
  }, 60_000);

  test("a revoked session returns the page to sign-in; no CSP violation all along", async () => {
    const token = await page.evaluate(() => sessionStorage.getItem("opengenie.token"));
    const res = await s.api("/api/auth/logout", { method: "POST", token: token!, body: "{}" });
    expect(res.status).toBe(200);
    await page.getByRole("alert").getByText("Your session ended; sign in again.").waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.locator("li.device").count()).toBe(0);
    expect(w.problems).toEqual([]);
  }, 30_000);
});
