import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import type { SimulatedDevice } from "../firmware-sim/index.ts";
import { addDevice, eventually, getDevice, simFor } from "./helpers/devices.ts";
import { makeTempDir } from "./helpers/temp-dir.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

// Debian's Chromium, driven headless (`.ci/run` installs the chromium package).
const CHROMIUM = "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("the web app in a real browser", () => {
  let s: TestStation;
  let browser: Browser;
  let admin: string;
  let sim: SimulatedDevice;
  let lampId: string;
  const profile = makeTempDir("opengenie-chromium-");

  beforeAll(async () => {
    s = await startTestStation();
    await s.addUser("webby", "member", "webby-password");
    admin = await s.userToken("web-admin", "admin");
    const lamp = await addDevice(s, admin, "Living room lamp", "light");
    lampId = lamp.device.id;
    sim = simFor(lamp.credentials, "light");
    await sim.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sim?.stop();
    await s?.stop();
    profile.remove();
  });

  test("sign in, see the device live, switch it on with Power and dim it", async () => {
    const page = await browser.newPage();
    await page.goto(`${s.url}/some/client/route`);
    await page.getByLabel("Username").fill("webby");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("wrong username or password").waitFor();

    await page.getByLabel("Password").fill("webby-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const card = page.locator("li.device", { hasText: "Living room lamp" });
    await card.waitFor();
    const power = card.getByRole("switch", { name: "Power" });
    expect(await power.isChecked()).toBe(false);
    await power.click();
    await eventually(
      () => getDevice(s, admin, lampId),
      (d) => d.state.power === "on",
    );
    expect(sim.state.power).toBe("on");
    await card.getByLabel("Brightness").fill("30");
    await card.getByLabel("Brightness").dispatchEvent("change");
    await eventually(
      () => getDevice(s, admin, lampId),
      (d) => d.state.brightness === 30,
    );

    // A change made elsewhere shows up without a reload.
    await s.api(`/api/devices/${lampId}/commands?wait=3000`, {
      method: "POST",
      token: admin,
      body: JSON.stringify({ action: "turn_off" }),
    });
    await eventually(
      async () => power.isChecked(),
      (checked) => !checked,
    );
    await page.screenshot({ path: process.env.OPENGENIE_SCREENSHOT ?? `${profile.path}/web-app.png` });
    await page.close();
  }, 30_000);
});
