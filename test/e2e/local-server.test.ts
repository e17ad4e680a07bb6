/**
 * `npm start` as a user runs it: a child process configured only through the environment
 * (DESIGN.md, Environment), its banner, and what it does with a bad config.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Incident, IncidentWithTimeline } from "../../functions/core/incident.js";
import { fixture } from "../support/fixtures.js";
import { freePort } from "../support/free-port.js";
import { pollUntil, within } from "../support/poll-until.js";
import { type Exit, type ProcessGroup, spawnProcessGroup } from "../support/process-group.js";
import { rawJson, rawRequest } from "../support/raw-http.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const hasCurl = existsSync("/usr/bin/curl");

/** The caller's environment without anything tocsin reads, plus `settings`. */
function environment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(TOCSIN_|SLACK_|PAGERDUTY_)/.test(name) || name === "PORT" || name === "HOST") {
      delete env[name];
    }
  }
  return { ...env, ...settings };
}

function npmStart(settings: Record<string, string>): ProcessGroup {
  return spawnProcessGroup("npm", ["start"], { cwd: REPO, env: environment(settings) });
}

/** Waits for the process to exit, failing after `timeoutMs` with what it printed. */
function exitOf(child: ProcessGroup, timeoutMs = STARTUP_TIMEOUT_MS): Promise<Exit> {
  return within(child.exited, "npm start to exit", timeoutMs, () => child.output());
}

describe("npm start", { timeout: 60_000 }, () => {
  describe("with the default config", () => {
    const webhookToken = randomBytes(24).toString("base64url");
    const apiToken = randomBytes(24).toString("base64url");
    const linkKey = randomBytes(24).toString("base64url");
    let server: ProcessGroup | undefined;
    let url = "";

    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${apiToken}` },
      });
      expect(response.status, `GET ${path}`).toBe(200);
      return (await response.json()) as T;
    };
    const postAlertmanager = (body: unknown, token = webhookToken) =>
      fetch(`${url}/webhooks/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    // Loaded into every node process of `npm start`; in tocsin's own, it rejects a promise
    // nobody awaits once the server listens (as a bug in a request path or an escalation
    // Task would).
    let rejectOnce = "";

    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      rejectOnce = join(await mkdtemp(join(tmpdir(), "tocsin-reject-")), "reject-once.mjs");
      await writeFile(
        rejectOnce,
        `import { isMainThread } from "node:worker_threads";
        if (isMainThread && process.argv[1]?.endsWith("main.ts")) {
          const timer = setInterval(() => {
            const servers = process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap");
            if (servers.length < 1) return; // tocsin's HTTP server (DynamoDB's is on its own thread)
            clearInterval(timer);
            Promise.reject(new Error("rejected by the test, awaited by nobody"));
          }, 20);
          timer.unref();
        }`,
      );
      server = npmStart({
        PORT: String(port),
        HOST: "127.0.0.1",
        TOCSIN_DATA_DIR: ":memory:",
        TOCSIN_WEBHOOK_TOKEN: webhookToken,
        TOCSIN_API_TOKEN: apiToken,
        TOCSIN_LINK_KEY: linkKey,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${pathToFileURL(rejectOnce)}`,
      });
      const started = server;
      await Promise.race([
        pollUntil(async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), {
          what: `npm start to answer ${url}/healthz`,
          timeoutMs: STARTUP_TIMEOUT_MS,
          diagnostics: () => `output of npm start:\n${started.output()}`,
        }),
        started.exited.then((exit) => {
          throw new Error(`npm start exited early (${JSON.stringify(exit)}):\n${started.output()}`);
        }),
      ]);
      // The banner is written right after the server starts listening.
      await pollUntil(() => (started.stdout().includes("See the incidents:") ? true : undefined), {
        what: "the banner",
        timeoutMs: 5_000,
        diagnostics: () => started.output(),
      });
    }, STARTUP_TIMEOUT_MS + 10_000);

    afterAll(async () => {
      await server?.stop();
    });

    it("answers /healthz without a token", async () => {
      const response = await fetch(`${url}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok" });
    });

    it("prints the URL and curl lines for both tokens, never the tokens it was given", () => {
      const banner = server!.stdout();
      expect(banner).toContain(`tocsin is listening on ${url}`);
      expect(banner).toContain("in memory");
      expect(banner).not.toContain(webhookToken);
      expect(banner).not.toContain(apiToken);
      expect(banner).not.toContain(linkKey);
      expect(banner).toMatch(/link key:\s+from TOCSIN_LINK_KEY \(not shown\)/);
      expect(banner).toMatch(/webhook token:\s+from TOCSIN_WEBHOOK_TOKEN \(not shown\)/);
      expect(banner).toMatch(/API token:\s+from TOCSIN_API_TOKEN \(not shown\)/);
      expect(banner).not.toContain("generated");
      expect(banner).toContain(`curl -s -H "Authorization: Bearer $TOCSIN_WEBHOOK_TOKEN"`);
      expect(banner).toContain(`${url}/webhooks/alertmanager`);
      expect(banner).toContain(
        `curl -s -H "Authorization: Bearer $TOCSIN_API_TOKEN" ${url}/incidents`,
      );
    });

    it.skipIf(!hasCurl)(
      "prints curl commands that work when pasted into the shell that set the tokens",
      async () => {
        const lines = server!.stdout().split("\n");
        const post = lines.indexOf("Post an alert as Alertmanager would:");
        const list = lines.indexOf("See the incidents:");
        expect(post, "banner section 'Post an alert'").toBeGreaterThanOrEqual(0);
        expect(list, "banner section 'See the incidents'").toBeGreaterThan(post);
        const sh = (command: string) =>
          promisify(execFile)("sh", ["-c", command], {
            env: {
              ...process.env,
              TOCSIN_WEBHOOK_TOKEN: webhookToken,
              TOCSIN_API_TOKEN: apiToken,
            },
          });
        const posted = await sh(lines.slice(post + 1, list).join("\n"));
        const answer = JSON.parse(posted.stdout) as { accepted: number; incidents: Incident[] };
        expect(answer).toMatchObject({ accepted: 1, incidents: [{ status: "triggered" }] });
        const listed = await sh(lines[list + 1]!);
        const { incidents } = JSON.parse(listed.stdout) as { incidents: Incident[] };
        expect(incidents.find((i) => i.id === answer.incidents[0]!.id)).toMatchObject({
          title: "Loss is NaN on llama-70b",
          severity: "critical",
          team: "ml-training",
        });
      },
    );

    it("turns a captured Alertmanager 0.25 delivery into an incident, once", async () => {
      const payload = fixture("alertmanager-0.25-firing.json");
      const first = await postAlertmanager(payload);
      expect(first.status).toBe(202);
      const accepted = (await first.json()) as {
        accepted: number;
        incidents: Array<{ id: string; status: string; deduplicated: boolean }>;
      };
      expect(accepted).toMatchObject({
        accepted: 1,
        incidents: [{ status: "triggered", deduplicated: false }],
      });
      const id = accepted.incidents[0]!.id;

      const repeat = await postAlertmanager(payload);
      expect(repeat.status).toBe(202);
      expect(await repeat.json()).toMatchObject({ incidents: [{ id, deduplicated: true }] });

      const { incidents } = await api<{ incidents: Incident[] }>("/incidents");
      const mine = incidents.filter((i) => i.fingerprint === "7d2d332feada5c59");
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        id,
        status: "triggered",
        source: "alertmanager",
        severity: "critical",
        team: "platform", // no team label: the config's default team
        title: "5xx > 5% for 5m",
        occurrences: 2,
      });
      const detail = await api<IncidentWithTimeline>(`/incidents/${id}`);
      expect(detail.timeline[0]).toMatchObject({ type: "triggered" });
    });

    it("logs a promise rejection nobody awaited as JSON and keeps serving", async () => {
      const line = await pollUntil(
        () =>
          server!
            .stderr()
            .split("\n")
            .find((l) => l.includes("unhandled_rejection")),
        {
          what: "the rejection's log line",
          timeoutMs: 10_000,
          diagnostics: () => server!.output(),
        },
      );
      expect(JSON.parse(line)).toMatchObject({
        level: "ERROR",
        event: "unhandled_rejection",
        error: { message: "rejected by the test, awaited by nobody" },
      });
      expect(server!.hasExited()).toBe(false);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    });

    describe("survives requests that used to end the process", () => {
      const alive = async () => {
        expect(server!.hasExited(), server!.output()).toBe(false);
        const response = await fetch(`${url}/healthz`);
        expect(response.status).toBe(200);
      };
      const request = (lines: string[], body = "") =>
        `${lines.join("\r\n")}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n${body}`;

      it.each([
        ["malformed percent-encoding in a path parameter", "GET /incidents/%ZZ HTTP/1.1"],
        ["an absolute URL with an impossible port", "GET http://a:99999/ HTTP/1.1"],
      ])("%s: 400 with a JSON error", async (_, line) => {
        const answer = await rawRequest(url, request([line]));
        expect(answer.status, answer.text).toBe(400);
        expect(rawJson(answer)).toMatchObject({ error: expect.any(String) });
        await alive();
      });

      it("a client that disconnects in the middle of a body", async () => {
        const head = [
          "POST /webhooks/alertmanager HTTP/1.1",
          `Authorization: Bearer ${webhookToken}`,
          "Content-Type: application/json",
          "Content-Length: 5000",
        ];
        await rawRequest(url, request(head, '{"version":"4","alerts":['), { hangUp: true });
        await alive();
      });

      it("a chunked body with a chunk size that is not hexadecimal: 400", async () => {
        const head = [
          "POST /webhooks/alertmanager HTTP/1.1",
          `Authorization: Bearer ${webhookToken}`,
          "Content-Type: application/json",
          "Transfer-Encoding: chunked",
        ];
        const answer = await rawRequest(
          url,
          request(head, '2\r\n{"\r\nzz\r\nversion\r\n0\r\n\r\n'),
        );
        expect(answer.status, answer.text).toBe(400);
        await alive();
      });
    });

    it("refuses a delivery without the webhook token and writes nothing", async () => {
      const before = await api<{ incidents: Incident[] }>("/incidents");
      const payload = fixture("alertmanager-0.25-firing-warning.json");
      const response = await postAlertmanager(payload, "not-the-token");
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: expect.any(String) });
      const after = await api<{ incidents: Incident[] }>("/incidents");
      expect(after.incidents).toHaveLength(before.incidents.length);
    });
  });

  describe("with a bad config", () => {
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tocsin-bad-config-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const severities = (critical: string, high = "{}") =>
      `severities:\n  critical: ${critical}\n  high: ${high}\n  warning: {}\n  info: {}\n`;
    it.each([
      {
        problem: "an unknown channel",
        yaml: severities("{ channels: [nope] }"),
        expected: ['severities.critical.channels.0: unknown channel "nope"'],
      },
      {
        problem: "a duration that is not one",
        yaml: severities("{}", "{ delay: soon }"),
        expected: ["severities.high.delay", "not a duration"],
      },
      {
        problem: "a missing file",
        yaml: null,
        expected: ["cannot read the config file", "ENOENT"],
      },
    ])("exits non-zero naming the problem: $problem", async ({ yaml, expected }) => {
      const path = join(dir, `${randomBytes(6).toString("hex")}.yaml`);
      if (yaml !== null) await writeFile(path, yaml);
      const child = npmStart({
        PORT: String(await freePort()),
        TOCSIN_CONFIG: path,
        TOCSIN_DATA_DIR: ":memory:",
      });
      try {
        const exit = await exitOf(child);
        expect(exit.code, child.output()).not.toBe(0);
        expect(exit.code, child.output()).not.toBeNull();
        const stderr = child.stderr();
        expect(stderr).toContain("tocsin: ");
        expect(stderr).toContain(path);
        for (const text of expected) expect(stderr).toContain(text);
        // A config error is for a human: no stack trace, and no server was started.
        expect(stderr).not.toMatch(/^\s+at /m);
        expect(child.stdout()).not.toContain("tocsin is listening");
      } finally {
        await child.stop();
      }
    });
  });
});
