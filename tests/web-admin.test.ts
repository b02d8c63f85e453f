import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import {
  checkPage,
  hasChromium,
  launchBrowser,
  openPage,
  signInThroughForm,
  type WatchedPage,
} from "./helpers/browser.ts";
import { addDevice } from "./helpers/devices.ts";
import { cli, startTestStation, type TestStation } from "./helpers/test-station.ts";

// The administration pages in the browser: users (a user added here can sign in, and is signed
// out when removed), tokens shown once, station facts and diagnostics; none for a member.
describe.skipIf(!hasChromium)("web app: administration", () => {
  let s: TestStation;
  let browser: Browser;
  let owner: WatchedPage;
  let page: Page;
  const nav = (name: string) => page.getByRole("navigation").getByRole("link", { name, exact: true });

  beforeAll(async () => {
    s = await startTestStation();
    await s.addUser("boss", "owner", "boss-password");
    browser = await launchBrowser();
    owner = await openPage(browser);
    page = owner.page;
    await page.goto(s.url);
    await signInThroughForm(page, "boss", "boss-password");
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  test("a user added on the users page can sign in, loses admin pages as a member, and is signed out when removed", async () => {
    await nav("Users").click();
    await page.getByLabel("New username").fill("newbie");
    await page.getByLabel("New password").fill("newbie-password");
    await page.getByLabel("Role", { exact: true }).selectOption("member");
    await page.getByRole("button", { name: "Add user" }).click();
    const row = page.locator("li.row-item", { hasText: "newbie" });
    await row.waitFor();
    await checkPage(page, "users");

    const other = await openPage(browser);
    await other.page.goto(s.url);
    await signInThroughForm(other.page, "newbie", "newbie-password");
    await other.page.getByRole("heading", { level: 2, name: "Devices" }).waitFor();
    expect(await other.page.getByRole("navigation").getByRole("link", { name: "Users" }).count()).toBe(0);
    await other.page.goto(`${s.url}/users`);
    await other.page.getByRole("heading", { name: "Admins only" }).waitFor();

    await row.getByRole("combobox", { name: "Role of newbie" }).selectOption("guest");
    await page.getByText("newbie is now guest.").waitFor();
    await row.getByRole("button", { name: "Remove newbie" }).click();
    await row.getByRole("button", { name: "Really remove newbie?" }).click();
    await page.getByText("newbie was removed").waitFor();
    await other.page.getByRole("alert").getByText("Your session ended; sign in again.").waitFor();
    await other.page.getByRole("button", { name: "Sign in" }).waitFor();
    await other.context.close();
  }, 60_000);

  test("a token is shown once with Copy, works, and stops working when revoked", async () => {
    await nav("Tokens").click();
    await page.getByLabel("Label").fill("kitchen tablet");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = await page.getByLabel("New token").inputValue();
    expect(secret.length).toBeGreaterThan(20);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText(/Copied\.|Selected/).waitFor();
    expect((await s.api("/api/devices", { token: secret })).status).toBe(200);
    const row = page.locator("li.row-item", { hasText: "kitchen tablet" });
    await row.waitFor();
    await checkPage(page, "tokens");
    // Shown once: after leaving the page it is nowhere on it.
    await nav("Station").click();
    await nav("Tokens").click();
    await row.waitFor();
    expect(await page.getByLabel("New token").count()).toBe(0);
    await row.getByRole("button", { name: "Revoke kitchen tablet" }).click();
    await page.getByText("kitchen tablet was revoked.").waitFor();
    expect((await s.api("/api/devices", { token: secret })).status).toBe(401);
  }, 30_000);

  test("the station page shows version, uptime, the MQTT address for firmware, cloud, integrations and connections", async () => {
    expect((await cli(s.dataDir, ["integration", "add", "ha-test"])).code).toBe(0);
    await nav("Station").click();
    await page.getByText("on, prefix homeassistant").waitFor();
    await page.getByText(/MQTT user integration-ha-test/).waitFor();
    const mqttPort = String(s.info.mqttPort);
    await page.getByText(`127.0.0.1:${mqttPort}`).waitFor();
    await page.getByText("Version").waitFor();
    await page.getByText("Up for").waitFor();
    await page.getByRole("heading", { name: "Cloud link" }).waitFor();
    await page.getByText(/Apps: [1-9]/).waitFor();
    await checkPage(page, "station");
  }, 30_000);

  test("an admin renames a device and deletes it from its page", async () => {
    const token = await s.login("boss", "boss-password");
    const { device } = await addDevice(s, token, "Spare plug", "switch");
    await nav("Devices").click();
    await page.getByRole("link", { name: "Spare plug" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Garage plug");
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByRole("heading", { level: 2, name: "Garage plug" }).waitFor();
    await checkPage(page, "device-admin");
    await page.getByRole("button", { name: "Delete device…" }).click();
    await page.getByRole("button", { name: "Delete for good" }).click();
    await page.getByRole("heading", { level: 2, name: "Devices" }).waitFor();
    expect((await s.api(`/api/devices/${device.id}`, { token })).status).toBe(404);
    expect(await page.getByText("Garage plug").count()).toBe(0);
  }, 30_000);

  test("diagnostics runs the doctor's checks and shows each with its fix", async () => {
    await nav("Diagnostics").click();
    await page.getByText(/\d+ checks: \d+ failed/).waitFor({ timeout: 20_000 });
    const checks = page.locator("li.check");
    expect(await checks.count()).toBeGreaterThan(2);
    const notOk = page.locator("li.check.fail, li.check.warn");
    for (let i = 0; i < (await notOk.count()); i++) {
      expect(await notOk.nth(i).textContent()).toContain("Fix:");
    }
    await checkPage(page, "diagnostics");
    expect(owner.problems).toEqual([]);
  }, 30_000);
});
