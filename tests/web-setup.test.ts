import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { checkPage, hasChromium, launchBrowser, openPage, type WatchedPage } from "./helpers/browser.ts";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

// First run in the browser: the setup page makes the owner from the code the station printed
// (and wrote to <data-dir>/setup-code), and from nothing else.
describe.skipIf(!hasChromium)("web app: first-run setup", () => {
  let s: TestStation;
  let browser: Browser;
  let w: WatchedPage;
  let page: Page;
  const codeFile = () => join(s.dataDir, "setup-code");
  const required = async () => ((await (await s.api("/api/setup")).json()) as { required: boolean }).required;

  beforeAll(async () => {
    s = await startTestStation();
    browser = await launchBrowser();
    w = await openPage(browser);
    page = w.page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  test("the sign-in page of a new station points to the setup link", async () => {
    await page.goto(s.url);
    await page.getByText("This station has no owner yet").waitFor();
    await checkPage(page, "sign-in-new-station");
  }, 30_000);

  test("a wrong code creates no account", async () => {
    await page.goto(`${s.url}/setup?code=not-the-code-at-all`);
    expect(await page.getByLabel("Setup code").inputValue()).toBe("not-the-code-at-all");
    await page.getByLabel("Username").fill("eve");
    await page.getByLabel("Password", { exact: true }).fill("eve-password");
    await page.getByRole("button", { name: "Create owner" }).click();
    await page.getByRole("alert").filter({ hasText: /code/i }).waitFor();
    expect(await required()).toBe(true);
    expect(
      (
        await s.api("/api/auth/login", {
          method: "POST",
          body: JSON.stringify({ username: "eve", password: "eve-password" }),
        })
      ).status,
    ).toBe(401);
    await checkPage(page, "setup-wrong-code");
  }, 30_000);

  test("the printed code creates the owner, who lands signed in; the code is gone", async () => {
    const code = readFileSync(codeFile(), "utf8").trim();
    await page.goto(`${s.url}/setup?code=${encodeURIComponent(code)}`);
    await page.getByLabel("Username").fill("homeowner");
    await page.getByLabel("Password", { exact: true }).fill("homeowner-password");
    await page.getByRole("button", { name: "Create owner" }).click();
    await page.getByRole("heading", { level: 2, name: "Devices" }).waitFor();
    await page.getByText("homeowner (owner)").waitFor();
    await page.getByRole("navigation").getByRole("link", { name: "Users" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await required()).toBe(false);
    expect(existsSync(codeFile())).toBe(false);
    await checkPage(page, "setup-done");

    await page.goto(`${s.url}/setup?code=${encodeURIComponent(code)}`);
    await page.getByRole("heading", { name: "Already set up" }).waitFor();
    expect(w.problems).toEqual([]);
  }, 30_000);
});
