import { performance } from "node:perf_hooks";
import { startLocalWithFakes } from "../test/support/local-with-fakes.js";
import { peopleConfig } from "../test/support/people-config.js";
import { postAlert } from "../test/support/post-alert.js";
import { percentiles } from "./clicks.js";

const WEBHOOK = "bench-webhook";
const API = "bench-api";
const PHONE = "+12025550143";
const EMAIL = "dmitri@example.com";
/** Local time scale: the rule's 2 minutes are 200 ms, level 2's 15 minutes 1.5 s. */
const SCALE = 600;
const VOICE_AFTER_S = 120;
const PATIENCE_MS = 20_000;

type Method = "slack channel post" | "slack dm" | "sms" | "email" | "voice" | "pagerduty";
const METHODS: readonly Method[] = [
  "slack channel post",
  "slack dm",
  "sms",
  "email",
  "voice",
  "pagerduty",
];

export interface ContactLatencyResult {
  incidents: number;
  scale: number;
  /** From the level (or its rule) falling due to the fake receiving the request, ms. */
  methods: Record<Method, { p50: number; p99: number; max: number }>;
}

/**
 * Per contact method, the time from a level falling due to its request reaching the fake on
 * 127.0.0.1 (as it leaves tocsin), on the local server with the shipped config: Dmitri, the
 * level-1 person, is reached by Slack DM, SMS and email at once and by a call at his rule's 2
 * minutes; the channel post in #incidents and the PagerDuty service's trigger fall due at the
 * same moment (the baseline: what tocsin sent before issue 13). One incident at a time, each
 * resolved once every request has arrived. Due times come from the incident's createdAt
 * (level 1 falls due when it opens) plus the rule's delay at the local time scale.
 */
export async function measureContactLatency(
  count = 40,
  log: (line: string) => void = () => undefined,
): Promise<ContactLatencyResult> {
  const people = peopleConfig({
    primary: "dmitri",
    users: {
      dmitri: {
        email: EMAIL,
        phone: PHONE,
        rules: [
          { after: 0, notify: ["slack", "sms", "email"] },
          { after: VOICE_AFTER_S, notify: ["voice"] },
        ],
      },
    },
  });
  const fakes = await startLocalWithFakes({
    webhookToken: WEBHOOK,
    apiToken: API,
    timeScale: SCALE,
    config: people,
  });
  const { local, slack, aws, pagerDuty } = fakes;
  const epoch = (at: number) => performance.timeOrigin + at;
  const arrivals = () => ({
    "slack channel post": slack
      .callsTo("chat.postMessage")
      .filter((c) => !String(c.args.channel).startsWith("D"))
      .map((c) => c.at),
    "slack dm": slack
      .callsTo("chat.postMessage")
      .filter((c) => String(c.args.channel).startsWith("D"))
      .map((c) => c.at),
    sms: aws.sms.filter((s) => s.to === PHONE).map((s) => s.at),
    email: aws.emails.filter((e) => e.to.includes(EMAIL)).map((e) => e.at),
    voice: aws.calls.filter((c) => c.to === PHONE).map((c) => c.at),
    pagerduty: pagerDuty.requests
      .filter(
        (r) =>
          r.path === "/v2/enqueue" &&
          (r.body as { event_action?: string } | undefined)?.event_action === "trigger",
      )
      .map((r) => r.at),
  });
  const latencies = Object.fromEntries(METHODS.map((m) => [m, [] as number[]])) as Record<
    Method,
    number[]
  >;
  try {
    log(`contacts: ${count} critical incidents, one at a time, ×${SCALE} ...`);
    for (let i = 0; i < count; i++) {
      const before = arrivals();
      const labels = {
        alertname: "TrainingNaNLoss",
        job: `contacts-${i}`,
        severity: "critical",
        team: "ml-training",
      };
      const posted = await postAlert(local.url, WEBHOOK, { labels, summary: "loss is NaN" });
      const id = posted.incident!.id;
      const deadline = performance.now() + PATIENCE_MS;
      let now = arrivals();
      while (METHODS.some((m) => now[m].length === before[m].length)) {
        if (performance.now() > deadline)
          throw new Error(
            `contacts: incident ${id} never reached ${METHODS.filter((m) => now[m].length === before[m].length).join(", ")}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 5));
        now = arrivals();
      }
      const response = await fetch(`${local.url}/incidents/${id}`, {
        headers: { authorization: `Bearer ${API}` },
      });
      const { createdAt } = (await response.json()) as { createdAt: string };
      const due = Date.parse(createdAt);
      for (const m of METHODS) {
        const first = now[m][before[m].length]!;
        const dueAt = m === "voice" ? due + (VOICE_AFTER_S * 1000) / SCALE : due;
        latencies[m].push(epoch(first) - dueAt);
      }
      await postAlert(local.url, WEBHOOK, { labels, summary: "loss is NaN", status: "resolved" });
    }
  } finally {
    await fakes.close();
  }
  return {
    incidents: count,
    scale: SCALE,
    methods: Object.fromEntries(METHODS.map((m) => [m, percentiles(latencies[m])])) as Record<
      Method,
      { p50: number; p99: number; max: number }
    >,
  };
}

export function contactLatencyMarkdown(result: ContactLatencyResult): string {
  const base = result.methods["slack channel post"];
  return [
    `### Contact methods on the local server (${result.incidents} critical incidents, one at a time, ×${result.scale}; fakes on 127.0.0.1)`,
    "",
    "| from the level (or its rule) falling due to the request reaching the fake | p50 ms | p99 ms | max ms | p50 / channel post's |",
    "|---|---|---|---|---|",
    ...METHODS.map((m) => {
      const p = result.methods[m];
      const ratio = base.p50 > 0 ? (p.p50 / base.p50).toFixed(2) : "–";
      return `| ${m} | ${p.p50} | ${p.p99} | ${p.max} | ${ratio} |`;
    }),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureContactLatency(40, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${contactLatencyMarkdown(result)}\n\n${JSON.stringify(result)}\n`);
}
