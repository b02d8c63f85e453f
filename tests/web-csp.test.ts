import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { startTestStation, type TestStation } from "./helpers/test-station.ts";

// Debian's Chromium, driven headless (`.ci/run` installs the chromium package).
const CHROMIUM = "/usr/bin/chromium";

test("the web app is served with a Content-Security-Policy that allows no eval and no foreign script", async () => {
  const s = await startTestStation();
  try {
    for (const path of ["/", "/setup", "/some/client/route"]) {
      const csp = (await s.api(path)).headers.get("content-security-policy") ?? "";
      const directives = Object.fromEntries(
        csp.split(";").map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values];
        }),
      );
      expect(directives["script-src"]).toEqual(["'self'"]);
      expect(directives["object-src"]).toEqual(["'none'"]);
      expect(directives["frame-ancestors"]).toEqual(["'none'"]);
      expect(csp).not.toContain("unsafe-eval");
    }
  } finally {
    await s.stop();
  }
});

describe.skipIf(!existsSync(CHROMIUM))("the web app under its CSP in a real browser", () => {
  let s: TestStation;
  let browser: Browser;

  beforeAll(async () => {
    s = await startTestStation();
    await s.addUser("csp-user", "member");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  // The bundled zod used to probe and compile with `new Function` on every load (issue 15); the
  // bundle now imports src/protocol/zod-jitless.ts first. Without it this test sees a violation.
  test("loading the page and signing in (zod parsing replies) reports no CSP violation", async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|unsafe-eval/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript(() => {
      (globalThis as unknown as { violations: string[] }).violations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        (globalThis as unknown as { violations: string[] }).violations.push(
          `${e.violatedDirective}: ${e.blockedURI}`,
        ),
      );
    });
    await page.goto(`${s.url}/`);
    await page.getByLabel("Username").fill("csp-user");
    await page.getByLabel("Password").fill("csp-user-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    // Signed in: the device list (parsed with zod) has been fetched and the live socket opened.
    await page.getByLabel("Username").waitFor({ state: "hidden" });
    await page.evaluate(() => fetch("/api/health"));
    violations.push(
      ...(await page.evaluate(() => (globalThis as unknown as { violations: string[] }).violations)),
    );
    expect(violations).toEqual([]);
    await page.close();
  }, 30_000);
});
