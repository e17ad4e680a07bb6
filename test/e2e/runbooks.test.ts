/**
 * Runbooks end to end: the shipped tocsin.yaml and runbooks/ behind a real Alertmanager 0.25,
 * fed the alerts that examples/prometheus/ml-alerts.rules.yml defines. Each incident must
 * name its runbook, and each channel must carry it: Slack the link and the first diagnosis
 * step, PagerDuty the link and the summary, email the whole runbook.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import type { Incident, IncidentWithTimeline } from "../../functions/core/incident.js";
import { matchesAll } from "../../functions/core/matchers.js";
import {
  fillPlaceholders,
  type RunbookDefinition,
  runbookPlaceholders,
} from "../../functions/core/runbook.js";
import { parseRunbook } from "../../functions/core/yaml-files.js";
import { type LocalServer, startLocalServer } from "../../functions/local/server.js";
import {
  type PostableAlert,
  type RunningAlertmanager,
  requireAlertmanager,
  startAlertmanager,
} from "../support/alertmanager-process.js";
import { FakePagerDuty } from "../support/fake-pagerduty.js";
import { FakeSlack, type SlackCall } from "../support/fake-slack.js";
import { pollUntil, within } from "../support/poll-until.js";
import { firingAlert, loadAlertingRules } from "../support/prometheus-rules.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const installed = requireAlertmanager("the runbooks end-to-end test");

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const RULES = loadAlertingRules(join(REPO, "examples/prometheus/ml-alerts.rules.yml"));
// 15 minutes become 1.5 s: a high incident pages 1.5 s after it opens.
const SCALE = 600;
const DELAY_MS = (15 * 60 * 1000) / SCALE;
const FIRED_AT = new Date(Date.now() - 120_000).toISOString();

/** Alerts of the rules file, the series they fire for, and where tocsin.yaml sends them. */
const WITH_RUNBOOK = [
  {
    alertname: "TrainingNaNLoss",
    series: { run: "llama-70b-pretrain", instance: "trainer-0:9400", job: "trainer" },
    value: "NaN",
    expected: { severity: "critical", team: "ml-training", slack: "#incidents" },
    email: "oncall@example.com",
    page: "at once",
  },
  {
    alertname: "InferenceAllInstancesDown",
    series: { model: "llama-3-70b-instruct" },
    value: "0",
    expected: { severity: "critical", team: "ml-inference", slack: "#incidents" },
    email: "oncall@example.com",
    page: "at once",
  },
  {
    alertname: "InferenceErrorSpike",
    series: { model: "llama-3-8b-chat" },
    value: "4.2%",
    expected: { severity: "high", team: "ml-inference", slack: "#alerts" },
    email: "team@example.com",
    page: "after the delay",
  },
  {
    alertname: "GPUTemperatureHigh",
    series: { instance: "10.0.3.17:9400", node: "gpu-node-7", gpu: "3" },
    value: "91",
    expected: { severity: "warning", team: "ml-training", slack: "#alerts" },
    email: null,
    page: "never",
  },
] as const;

/** Two alerts no runbook serves: one names its own runbook, one has none at all. */
const WIKI_RUNBOOK = "https://wiki.example.com/runbooks/certificate-expiry";
const OWN_RUNBOOK: PostableAlert = {
  labels: {
    alertname: "CertificateExpiringSoon",
    severity: "critical",
    team: "platform",
    secret: "api-tls",
  },
  annotations: { summary: "TLS certificate api-tls expires in 3 days", runbook_url: WIKI_RUNBOOK },
  startsAt: FIRED_AT,
};
const NO_RUNBOOK: PostableAlert = {
  labels: {
    alertname: "NodeDiskFull",
    severity: "critical",
    team: "platform",
    instance: "node-12:9100",
  },
  annotations: { summary: "Disk / on node-12 is 97% full" },
  startsAt: FIRED_AT,
};

/** Slack's escaping of &, < and > (https://api.slack.com/reference/surfaces/formatting#escaping). */
const mrkdwn = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Every string inside a value (Block Kit blocks, custom_details), joined by newlines. */
function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(textOf).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(textOf).join("\n");
  return "";
}

/** The Markdown of one `## ` section of a runbook, without its heading. */
const section = (runbook: RunbookDefinition, heading: string) =>
  runbook.body
    .split(new RegExp(`^## ${heading}\\s*$`, "m"))[1]!
    .split(/^## /m)[0]!
    .trim();

type PagerDutyEvent = {
  event_action: string;
  dedup_key: string;
  links?: Array<{ href: string; text: string }>;
  payload?: { custom_details?: Record<string, unknown> };
};

describe.skipIf(!installed)("runbooks behind a real Alertmanager 0.25", { timeout: 40_000 }, () => {
  const webhookToken = randomBytes(24).toString("base64url");
  const apiToken = randomBytes(24).toString("base64url");
  const { config, runbooks } = loadServiceFiles(join(REPO, "tocsin.yaml"));
  /** The people's own addresses: each level's person is emailed by the default rules. */
  const PEOPLE = new Set(Object.values(config.users).flatMap((u) => (u.email ? [u.email] : [])));
  let dataDir = "";
  let slack: FakeSlack | undefined;
  let pagerDuty: FakePagerDuty | undefined;
  let local: LocalServer | undefined;
  let alertmanager: RunningAlertmanager | undefined;
  /** The incident of each alert, by alertname. */
  let incidents = new Map<string, Incident>();

  const diagnostics = () => {
    const lines = (alertmanager?.logs() ?? "").split("\n").filter((l) => !l.includes("flushing"));
    return `Alertmanager's log (last 30 lines):\n${lines.slice(-30).join("\n")}`;
  };
  const until = <T>(probe: () => Promise<T | undefined> | T | undefined, what: string) =>
    pollUntil(probe, { what, timeoutMs: 8_000, intervalMs: 100, diagnostics });

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${local!.url}${path}`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    if (response.status !== 200) {
      throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    }
    return (await response.json()) as T;
  }
  const incidentOf = (alertname: string) =>
    api<IncidentWithTimeline>(`/incidents/${incidents.get(alertname)!.id}`);

  /** What tocsin did with an incident so far, for a timeout's message. */
  async function progress(id: string): Promise<string> {
    const incident = await api<IncidentWithTimeline>(`/incidents/${id}`);
    const timeline = incident.timeline.map(
      (e) => `${e.type}${e.channel ? ` ${e.channel}` : ""}${e.detail ? `: ${e.detail}` : ""}`,
    );
    const posts = slack!.calls.map((c) => `${c.method} ${String(c.args.channel)} ${c.status}`);
    return [
      `incident ${id} is ${incident.status} at level ${incident.level}; its timeline:`,
      ...timeline.map((line) => `  ${line}`),
      `Slack calls: ${posts.join(", ") || "none"}; PagerDuty events: ${pagesOf(id).length}`,
    ].join("\n");
  }
  /** Polls `find` until it answers; a timeout tells what tocsin did with incident `id`. */
  const waitFor = <T>(
    id: string,
    what: string,
    find: () => Promise<T | undefined> | T | undefined,
  ) =>
    until(async () => {
      const found = await find();
      if (found !== undefined) return found;
      throw new Error(await progress(id));
    }, what);
  /** `list()` once it holds at least `count` items. */
  const atLeast =
    <T>(count: number, list: () => Promise<T[]> | T[]) =>
    async () => {
      const items = await list();
      return items.length >= count ? items : undefined;
    };

  /** The incident's own message: a top-level post whose buttons carry its id. */
  const slackPost = (id: string) =>
    slack!.callsTo("chat.postMessage").find((call) => {
      if (call.args.thread_ts) return false;
      const blocks = (call.args.blocks ?? []) as Array<{ elements?: Array<{ value?: string }> }>;
      return blocks.some((block) => block.elements?.some((e) => e.value === id));
    });
  const threadReplies = (incident: Incident): SlackCall[] => {
    const refs = Object.values(incident.slackMessages);
    return slack!
      .callsTo("chat.postMessage")
      .filter((call) => refs.some((ref) => ref.ts === call.args.thread_ts));
  };
  const pagesOf = (id: string) =>
    (pagerDuty!.events as PagerDutyEvent[]).filter((event) => event.dedup_key === id);
  /** The emails written to the local outbox that are about incident `id`. */
  async function emailsOf(id: string): Promise<Array<{ to: string; text: string }>> {
    const outbox = join(dataDir, "outbox");
    const files = await readdir(outbox).catch(() => [] as string[]);
    const emails = await Promise.all(
      files
        .filter((file) => file.endsWith(".txt"))
        .map(async (file) => {
          const text = await readFile(join(outbox, file), "utf8");
          return { to: /^To: (.+)$/m.exec(text)?.[1] ?? "", text };
        }),
    );
    return emails.filter((email) => new RegExp(`^Incident:\\s+${id}$`, "m").test(email.text));
  }

  /** The runbook the rules file names for an alert, as the runbook file itself describes it. */
  function runbookFor(alertname: string): RunbookDefinition {
    const file = basename(RULES.get(alertname)!.annotations.runbook_url!);
    return parseRunbook(file, readFileSync(join(REPO, config.runbooks.dir, file), "utf8"));
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tocsin-runbooks-"));
    slack = await FakeSlack.start({ token: "xoxb-e2e" });
    pagerDuty = await FakePagerDuty.start();
    local = await startLocalServer({
      config,
      runbooks,
      host: "127.0.0.1",
      port: 0,
      // A real folder, not ":memory:", so that emails are written to <dataDir>/outbox/.
      dataDir,
      webhookToken,
      apiToken,
      timeScale: SCALE,
      notifiers: {
        slack: { token: "xoxb-e2e", apiUrl: slack.apiUrl },
        pagerDuty: {
          routingKey: "0123456789abcdef0123456789abcdef",
          server: pagerDuty.server,
          ca: pagerDuty.ca,
        },
      },
      logger: new Logger({ serviceName: "tocsin-e2e", logLevel: "ERROR" }),
    });
    alertmanager = await startAlertmanager({
      webhookUrl: `${local.url}/webhooks/alertmanager`,
      bearerToken: webhookToken,
      groupWait: "1s",
      groupInterval: "1s",
      repeatInterval: "1h",
    });
    const alerts = WITH_RUNBOOK.map((a) => {
      const rule = RULES.get(a.alertname);
      if (!rule)
        throw new Error(`${a.alertname} is not in examples/prometheus/ml-alerts.rules.yml`);
      return firingAlert(rule, a.series, a.value, FIRED_AT);
    });
    await alertmanager.postAlerts([...alerts, OWN_RUNBOOK, NO_RUNBOOK]);
    const names = [...alerts, OWN_RUNBOOK, NO_RUNBOOK].map((a) => a.labels.alertname!);
    incidents = await until(async () => {
      const { incidents: all } = await api<{ incidents: Incident[] }>("/incidents?limit=100");
      const byName = new Map(all.map((i) => [i.labels.alertname ?? "", i]));
      if (names.every((name) => byName.has(name))) return byName;
      throw new Error(`incidents so far: ${[...byName.keys()].join(", ") || "none"}`);
    }, "an incident for each of the six alerts");
  }, 30_000);

  afterAll(async () => {
    await local?.escalation.close();
    await alertmanager?.stop();
    await local?.close();
    await slack?.close();
    await pagerDuty?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.each(WITH_RUNBOOK.map((a) => [a.alertname, a.expected.severity, a] as const))(
    "%s (%s): the runbook on the incident, in Slack, PagerDuty and email",
    async (alertname, _, { expected, email, page }) => {
      const runbook = runbookFor(alertname);
      const url = `${config.runbooks.baseUrl}${runbook.file}`;
      const opened = incidents.get(alertname)!;
      // The front matter serves this alert: a precondition, not what is under test.
      expect(matchesAll(runbook.matchers, opened.labels), runbook.file).toBe(true);
      // What every channel shows: the runbook with its placeholders filled by the labels.
      const fill = (text: string) => fillPlaceholders(text, opened.labels);
      const filled = {
        ...runbook,
        summary: fill(runbook.summary),
        diagnosis: runbook.diagnosis.map(fill),
        body: fill(runbook.body),
      };

      const incident = await incidentOf(alertname);
      expect(incident).toMatchObject({ severity: expected.severity, team: expected.team });
      expect(incident.runbook).toEqual({ name: runbook.title, url });

      // Slack: the link and the first diagnosis step, in the channel the severity goes to.
      const post = await waitFor(incident.id, `the Slack post of ${alertname}`, () =>
        slackPost(incident.id),
      );
      expect(post.args.channel).toBe(expected.slack);
      const posted = textOf(post.args.blocks);
      expect(posted).toContain(`<${mrkdwn(url)}|${mrkdwn(runbook.title)}>`);
      expect(posted).toContain(mrkdwn(filled.diagnosis[0]!));
      for (const name of runbookPlaceholders(runbook.diagnosis[0]!)) {
        if (opened.labels[name]) expect(posted).not.toMatch(new RegExp(`\\$${name}\\b`));
      }

      // PagerDuty: critical pages at once, high after its delay; a PagerDuty service hears the
      // incident once (its own escalation policy pages from there).
      if (page === "never") {
        // Its escalation, its one step told, has ended: nothing is left that could page.
        const ended = local!.escalation.untilEnded(incident.id);
        expect(await within(ended, `the escalation of ${alertname} to end`, 8_000)).toMatchObject({
          status: "succeeded",
        });
        expect(pagesOf(incident.id)).toEqual([]);
      } else {
        const wanted = 1;
        const pages = await waitFor(
          incident.id,
          `${wanted} PagerDuty event(s) for ${alertname}`,
          atLeast(wanted, () => pagesOf(incident.id)),
        );
        if (page === "after the delay") {
          const first = pagerDuty!.requests.find((r) => r.body === pages[0])!;
          const arrived = performance.timeOrigin + first.at;
          expect(arrived).toBeGreaterThanOrEqual(Date.parse(incident.createdAt) + DELAY_MS - 100);
        }
        for (const event of pages) {
          expect(event.event_action).toBe("trigger");
          expect(event.links).toContainEqual(expect.objectContaining({ href: url }));
          const details = textOf(event.payload?.custom_details);
          expect(details).toContain(filled.summary);
          expect(details).toContain(url);
        }
      }
      if (page === "at once") {
        // Level 2's reply in the thread points at the runbook too.
        const replies = await waitFor(
          incident.id,
          `an escalation reply in the thread of ${alertname}`,
          atLeast(1, async () => threadReplies(await incidentOf(alertname))),
        );
        for (const reply of replies) {
          expect(textOf(reply.args.blocks)).toContain(`<${mrkdwn(url)}|${mrkdwn(runbook.title)}>`);
        }
      }

      // Email: the whole runbook, Resolution included, for the severities that email.
      const emails = email
        ? await waitFor(
            incident.id,
            `the email about ${alertname}`,
            atLeast(1, () => emailsOf(incident.id)),
          )
        : await emailsOf(incident.id);
      // The channel's address once; the others are the people the levels reached by email.
      expect(emails.filter((e) => !PEOPLE.has(e.to)).map((e) => e.to)).toEqual(
        email ? [email] : [],
      );
      for (const { text } of emails) {
        expect(text).toContain(url);
        expect(text).toContain(filled.summary);
        expect(text).toContain(filled.diagnosis[0]!);
        expect(text).toContain(section(filled, "Resolution"));
        expect(text).toContain(section(filled, "Post-incident"));
      }
    },
  );

  it("an alert no runbook serves gets its runbook_url annotation as its runbook", async () => {
    const incident = await incidentOf(OWN_RUNBOOK.labels.alertname!);
    expect(incident.runbook).toEqual({ name: expect.any(String), url: WIKI_RUNBOOK });
    const name = incident.runbook!.name;
    expect(name).not.toBe("");

    const post = await waitFor(incident.id, "the Slack post", () => slackPost(incident.id));
    expect(textOf(post.args.blocks)).toContain(`<${mrkdwn(WIKI_RUNBOOK)}|${mrkdwn(name)}>`);
    const pages = await waitFor(
      incident.id,
      "the page",
      atLeast(1, () => pagesOf(incident.id)),
    );
    for (const event of pages) {
      expect(event.links).toContainEqual(expect.objectContaining({ href: WIKI_RUNBOOK }));
      expect(textOf(event.payload?.custom_details)).toContain(WIKI_RUNBOOK);
    }
    const emails = await waitFor(
      incident.id,
      "the email",
      atLeast(1, () => emailsOf(incident.id)),
    );
    for (const { text } of emails) expect(text).toContain(WIKI_RUNBOOK);
  });

  it("an alert with neither gets runbook null and messages without a runbook", async () => {
    const incident = await incidentOf(NO_RUNBOOK.labels.alertname!);
    expect(incident.runbook).toBeNull();

    const post = await waitFor(incident.id, "the Slack post", () => slackPost(incident.id));
    const posted = textOf(post.args.blocks);
    expect(posted).toContain(mrkdwn(NO_RUNBOOK.annotations!.summary!));
    expect(posted).not.toMatch(/runbook/i);
    const pages = await waitFor(
      incident.id,
      "the page",
      atLeast(1, () => pagesOf(incident.id)),
    );
    for (const event of pages) {
      expect(event.links ?? []).not.toContainEqual(
        expect.objectContaining({ text: expect.stringMatching(/runbook/i) }),
      );
      expect(event.payload?.custom_details).not.toHaveProperty("runbook");
      expect(JSON.stringify(event)).not.toMatch(/runbook/i);
    }
    const emails = await waitFor(
      incident.id,
      "the email",
      atLeast(1, () => emailsOf(incident.id)),
    );
    expect(emails.filter((e) => !PEOPLE.has(e.to)).map((e) => e.to)).toEqual([
      "oncall@example.com",
    ]);
    for (const { text } of emails) {
      expect(text).toContain(NO_RUNBOOK.annotations!.summary!);
      expect(text).not.toMatch(/runbook/i);
    }
  });
});
