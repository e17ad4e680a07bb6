/**
 * The history page in a real browser (Debian's Chromium driven by playwright-core) against
 * the whole local server: sign in through the form, filter, open an incident and read its
 * escalation, see that hostile labels stay text, export CSV, read the report; a screenshot
 * of each page goes to test-artifacts/history/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalServer, startLocalServer } from "../../functions/local/server.js";
import { act, command } from "../support/lifecycle.js";
import { type BrowserContext, loadPlaywright, type Page } from "../support/playwright.js";
import { pollUntil } from "../support/poll-until.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/history/", import.meta.url));
const WEBHOOK = "browser-webhook-token";
const API = "browser-api-token";
const SCRIPT = "<script>alert(1)</script>";
const IMG = `"><img src=x onerror=alert(1)>`;

const playwright = await loadPlaywright();
const hasChromium = existsSync(CHROMIUM);
const available = playwright !== null && hasChromium;
if (!available && !process.env.CI) {
  const missing = [
    playwright ? null : "playwright-core is not installed (npm install -D playwright-core)",
    hasChromium ? null : `${CHROMIUM} is missing (apt-get install -y chromium)`,
  ].filter(Boolean);
  console.warn(`history browser test skipped: ${missing.join("; ")}`);
}

describe.skipIf(!available && !process.env.CI)(
  "history page in Chromium",
  { timeout: 60_000 },
  () => {
    let local: LocalServer;
    let context: BrowserContext;
    let page: Page;
    let userDataDir = "";
    const dialogs: string[] = [];
    const cspViolations: string[] = [];
    const ids: Record<string, string> = {};

    async function fire(labels: Record<string, string>, summary: string, status = "firing") {
      const response = await fetch(`${local.url}/webhooks/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${WEBHOOK}`, "content-type": "application/json" },
        body: JSON.stringify({
          version: "4",
          status,
          alerts: [{ status, labels, annotations: { summary }, startsAt: "2026-11-30T09:00:00Z" }],
        }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { incidents: Array<{ id: string }> }).incidents[0]!.id;
    }

    const incident = async (id: string) =>
      (await (
        await fetch(`${local.url}/incidents/${id}`, { headers: { authorization: `Bearer ${API}` } })
      ).json()) as IncidentWithTimeline;

    const shot = (name: string) =>
      page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

    beforeAll(async () => {
      if (!playwright)
        throw new Error("playwright-core is not installed: npm install -D playwright-core");
      if (!hasChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      await mkdir(ARTIFACTS, { recursive: true });
      const { config, runbooks } = loadServiceFiles("tocsin.yaml");
      local = await startLocalServer({
        config,
        runbooks,
        host: "127.0.0.1",
        port: 0,
        dataDir: ":memory:",
        webhookToken: WEBHOOK,
        apiToken: API,
        // 15 minutes become 1.5 s: a critical alert reaches level 2 quickly.
        timeScale: 600,
        logger: new Logger({ serviceName: "tocsin-browser", logLevel: "ERROR" }),
      });

      // A critical alert that escalates to level 2, then is acknowledged.
      ids.escalated = await fire(
        {
          alertname: "TrainingNaNLoss",
          job: "llama-70b",
          severity: "critical",
          team: "ml-training",
        },
        "Loss is NaN on llama-70b",
      );
      await pollUntil(
        async () => ((await incident(ids.escalated!)).level >= 2 ? true : undefined),
        {
          what: "the critical incident at level 2",
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
      await act(
        local.app.store,
        ids.escalated,
        command("acknowledge", "Erin Walsh"),
        new Date().toISOString(),
      );
      // Hostile labels and annotations: they must show as text and never run.
      ids.hostile = await fire(
        { alertname: SCRIPT, job: IMG, severity: "warning", team: "platform" },
        `${SCRIPT} ${IMG}`,
      );
      // One that fires and resolves.
      const resolved = {
        alertname: "GpuXidError",
        job: "node-7",
        severity: "high",
        team: "ml-inference",
      };
      ids.resolved = await fire(resolved, "Xid 79 on node-7");
      await fire(resolved, "Xid 79 on node-7", "resolved");

      userDataDir = await mkdtemp(join(tmpdir(), "tocsin-chromium-"));
      context = await playwright.chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        acceptDownloads: true,
        viewport: { width: 1280, height: 900 },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      context.setDefaultTimeout(10_000);
      page = context.pages()[0] ?? (await context.newPage());
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      await local?.close();
      if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    });

    it("asks for the token, then signs in through the form", async () => {
      const response = await page.goto(`${local.url}/`);
      expect(response?.status()).toBe(401);
      await expect(page.locator("h1").textContent()).resolves.toBe("Sign in to tocsin");
      await shot("1-sign-in");

      await page.fill("#token", "not the token");
      await page.click("button[type=submit]");
      await expect(page.locator("[role=alert]").textContent()).resolves.toBe(
        "That token is not valid.",
      );

      await page.fill("#token", API);
      await page.click("form[action='/login'] button[type=submit]");
      await page.waitForURL(`${local.url}/`);
      await expect(page.locator("h1").textContent()).resolves.toBe("Incidents");
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === "tocsin_session");
      expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
      expect(session!.value).not.toContain(API);
    });

    it("lists the incidents, with hostile labels shown as text", async () => {
      await expect(page.locator("#incidents tbody tr").count()).resolves.toBe(3);
      await expect(page.getByText(`${SCRIPT} ${IMG}`, { exact: true }).count()).resolves.toBe(1);
      await expect(page.locator("img").count()).resolves.toBe(0);
      await shot("2-incidents");
    });

    it("filters by severity, status and level through the form", async () => {
      await page.selectOption("select[name=severity]", "critical");
      await page.click("form.filters button[type=submit]");
      await page.waitForURL(/severity=critical/);
      await expect(page.locator("#incidents tbody tr").count()).resolves.toBe(1);
      await expect(page.locator("#incidents tbody").textContent()).resolves.toContain(
        "Loss is NaN on llama-70b",
      );

      await page.goto(`${local.url}/`);
      await page.selectOption("select[name=status]", "resolved");
      await page.click("form.filters button[type=submit]");
      await page.waitForURL(/status=resolved/);
      await expect(page.locator("#incidents tbody").textContent()).resolves.toContain(
        "Xid 79 on node-7",
      );
      await expect(page.locator("#incidents tbody tr").count()).resolves.toBe(1);

      await page.goto(`${local.url}/`);
      await page.selectOption("select[name=minLevel]", "2");
      await page.click("form.filters button[type=submit]");
      await page.waitForURL(/minLevel=2/);
      await expect(page.locator("#incidents tbody tr").count()).resolves.toBe(1);
      await shot("3-filtered");
    });

    it("opens an incident and shows its escalation level by level and its timeline", async () => {
      await page.click("text=Loss is NaN on llama-70b");
      await page.waitForURL(/incident=/);
      await expect(page.locator("h1").textContent()).resolves.toBe("Loss is NaN on llama-70b");
      await expect(page.locator("section.level[data-level='1'] h3").textContent()).resolves.toMatch(
        /^Level 1/,
      );
      await expect(page.locator("section.level[data-level='2']").textContent()).resolves.toMatch(
        /Escalated to level 2:/,
      );
      // Without credentials every channel records "not delivered".
      await expect(page.locator("section.level td.not_delivered").count()).resolves.toBeGreaterThan(
        0,
      );
      await expect(
        page.locator("#timeline li[data-type=acknowledged]").textContent(),
      ).resolves.toContain("by Erin Walsh");
      await shot("4-incident");
    });

    it("shows a hostile incident's labels literally, and nothing ran", async () => {
      await page.goto(`${local.url}/?incident=${ids.hostile}`);
      await expect(page.locator("table.pairs").first().textContent()).resolves.toContain(SCRIPT);
      await expect(page.locator("table.pairs").first().textContent()).resolves.toContain(IMG);
      await expect(page.locator("img").count()).resolves.toBe(0);
      await shot("5-hostile-incident");
    });

    it("exports the filtered list as CSV with the session cookie", async () => {
      await page.goto(`${local.url}/?team=platform`);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("text=Export CSV"),
      ]);
      expect(download.suggestedFilename()).toMatch(/^tocsin-incidents-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = await readFile((await download.path())!, "utf8");
      const lines = csv.trim().split("\r\n");
      expect(lines[0]).toMatch(/^id,created_at,status,severity,team,title,/);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain(ids.hostile);
      expect(lines[1]).toContain(`"<script>alert(1)</script> ""><img src=x onerror=alert(1)>"`);
    });

    it("shows the report with its charts", async () => {
      await page.click("text=Escalation report");
      await page.waitForURL(/view=report/);
      await expect(page.locator("#total-incidents").textContent()).resolves.toBe("3");
      await expect(page.locator("svg.chart").count()).resolves.toBe(2);
      const box = await page.locator("svg.chart").first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      await shot("6-report");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("text=Export report CSV"),
      ]);
      const csv = await readFile((await download.path())!, "utf8");
      expect(csv.split("\r\n")[1]).toMatch(/^overall,all,3,1,1,/);
    });

    it("fits a phone's width", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const path of ["/", "/?view=report", `/?incident=${ids.escalated}`]) {
        await page.goto(`${local.url}${path}`);
        const overflow = await page.evaluate<number>(
          "document.documentElement.scrollWidth - window.innerWidth",
        );
        expect(overflow, path).toBeLessThanOrEqual(0);
      }
      await page.goto(`${local.url}/`);
      await shot("7-incidents-phone");
    });

    it("never ran a script and broke no CSP rule", () => {
      expect(dialogs).toEqual([]);
      expect(cspViolations).toEqual([]);
    });
  },
);
