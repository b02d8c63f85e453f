import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { checkPage, hasChromium, launchBrowser, openPage, signInThroughForm } from "./helpers/browser.ts";
import { repoRoot } from "./helpers/spawn-station.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

const fakeBridge = (args: string) =>
  `${process.execPath} ${join(repoRoot, "firmware-sim", "ble-bridge.ts")} --announce-interval-ms 100 ${args}`;

// The pairing page with the simulator's fake BLE bridge: live candidates, the Wi-Fi form, the
// progress until the device is online; and a station without Bluetooth saying what to do.
describe.skipIf(!hasChromium)("web app: pairing", () => {
  const stations: TestStation[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of stations) await s.stop();
  });

  async function stationWith(bridge: string) {
    const s = await startTestStation({ env: { OPENGENIE_BLE_BRIDGE: bridge } });
    stations.push(s);
    await s.addUser("pair-admin", "admin", "pair-admin-password");
    return s;
  }

  test("a simulated device paired end to end: candidates with signal, Wi-Fi, progress, online", async () => {
    const s = await stationWith(fakeBridge("--devices 2 --wifi-password home-wifi-pass"));
    ({ page } = await openPage(browser));
    await page.goto(s.url);
    await signInThroughForm(page, "pair-admin", "pair-admin-password");
    await page.getByRole("navigation").getByRole("link", { name: "Pair" }).click();
    const candidates = page.locator("label.candidate");
    await candidates.nth(1).waitFor({ timeout: 15_000 });
    expect(await candidates.first().textContent()).toMatch(/OpenGenie-.* signal -\d+ dBm/);
    await checkPage(page, "pairing");

    await page.getByLabel("Name", { exact: true }).fill("Hall light");
    await page.getByLabel("Wi-Fi name").fill("home");
    await page.getByLabel("Wi-Fi password").fill("home-wifi-pass");
    await page.getByRole("button", { name: "Pair device" }).click();
    await page.getByText("Hall light is online.").waitFor({ timeout: 30_000 });
    await checkPage(page, "pairing-done");
    await page.getByRole("link", { name: "Open Hall light" }).click();
    await page.getByRole("heading", { level: 2, name: "Hall light" }).waitFor();
    await page.getByRole("switch", { name: "Power" }).click();
    await page.getByText("Done: the device confirmed turn on.").waitFor();
  }, 60_000);

  test("without Bluetooth the page says why and what to do next", async () => {
    const s = await stationWith("/nonexistent/opengenie-ble-helper");
    ({ page } = await openPage(browser));
    await page.goto(`${s.url}/pair`);
    await signInThroughForm(page, "pair-admin", "pair-admin-password");
    await page.getByRole("heading", { level: 2, name: "Pair a device" }).waitFor();
    await page.getByLabel("Wi-Fi name").fill("home");
    await page.getByLabel("Name", { exact: true }).fill("Nothing");
    // No candidate can appear; the form still refuses to go on without one, then the station's
    // BLE_UNAVAILABLE shows once the helper's failure is known.
    const problem = page.locator(".problem");
    await problem.getByText("Next step:").waitFor({ timeout: 15_000 });
    expect(await problem.textContent()).toMatch(/Bluetooth is not usable/);
    expect(await problem.textContent()).toMatch(/install Python 3 and bleak|Diagnostics|opengenie doctor/);
    await checkPage(page, "pairing-unavailable");
  }, 60_000);
});
