/**
 * `npm run chaos`: the local server (`npm start` as a child process, on a data directory of
 * its own) killed with SIGKILL several times while Alertmanager-like groups post alerts and
 * retry as Alertmanager does, people acknowledge in Slack what paged them, and a reader
 * polls the API; DynamoDB sits behind a fault proxy (resets, hangs, throttling, internal
 * errors) and the Slack and PagerDuty fakes throttle, fail and hang. Then everything
 * settles and the run counts alerts lost, incidents duplicated, levels never delivered or
 * never reached, PagerDuty left in the wrong state, pages delivered twice, and how the
 * service answered during storage faults (README, Reliability). Prints Markdown and JSON;
 * exits 0 unless the run itself failed or, with CHAOS_STRICT=1, a count that should be 0
 * is not. CHAOS_SEED picks another script; CHAOS_KEEP_DATA keeps the data, the logs and
 * what the run saw in its temporary directory.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { loadServiceFiles } from "../functions/adapters/config-file.js";
import { FakePagerDuty } from "../test/support/fake-pagerduty.js";
import { FakeSlack } from "../test/support/fake-slack.js";
import { DynamoFaultProxy, seededRandom } from "../test/support/fault-proxy.js";
import { pagerDutyPerLevelYaml } from "../test/support/pagerduty-per-level.js";
import { type GroupScript, groupState, runGroup } from "./chaos-alertmanager.js";
import { answersByWindow, storageFaultAnswers, type Window } from "./chaos-answers.js";
import { misbehaveChannels, pagesReceived } from "./chaos-channels.js";
import { type Attempt, closeConnections } from "./chaos-http.js";
import { acknowledgeInSlack, readAllIncidents, readerLoop } from "./chaos-people.js";
import {
  type ChaosResult,
  chaosMarkdown,
  countsThatShouldBeZero,
  failedOnTimelines,
  tallyOf,
} from "./chaos-report.js";
import { type ChaosSettings, DEFAULT_SETTINGS, faultPlanOf, groupScripts } from "./chaos-script.js";
import { ChaosServer, portBelowEphemeralRange } from "./chaos-server.js";
import { tally } from "./chaos-tally.js";

const WEBHOOK_TOKEN = "chaos-webhook-token";
const API_TOKEN = "chaos-api-token";
const SLACK_TOKEN = "xoxb-chaos";
const SIGNING_SECRET = "chaos-signing-secret";
const ROUTING_KEY = "0123456789abcdef0123456789abcdef";

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Per level, ms from an incident's escalation base, on the run's clock (tocsin.yaml's critical policy). */
function levelOffsetsMs(timeScale: number): number[] {
  const { config } = loadServiceFiles("tocsin.yaml");
  const severity = config.severities.critical;
  const policy = severity?.escalation ? config.escalationPolicies[severity.escalation] : undefined;
  if (!severity || !policy) throw new Error("tocsin.yaml: critical has no escalation policy");
  return policy.levels.map((level) => ((severity.delay + level.after) * 1000) / timeScale);
}

async function main() {
  const settings: ChaosSettings = {
    ...DEFAULT_SETTINGS,
    ...(process.env.CHAOS_SEED ? { seed: Number(process.env.CHAOS_SEED) } : {}),
  };
  const random = seededRandom(settings.seed);
  const startedAt = Date.now();
  const offsets = levelOffsetsMs(settings.timeScale);
  const dataDir = await mkdtemp(join(tmpdir(), "tocsin-chaos-"));
  const serverPort = await portBelowEphemeralRange(Math.random);
  const dynamoPort = await portBelowEphemeralRange(Math.random);
  const url = `http://127.0.0.1:${serverPort}`;
  const slack = await FakeSlack.start({ token: SLACK_TOKEN });
  const pagerDuty = await FakePagerDuty.start();
  const caFile = join(dataDir, "pagerduty-ca.pem");
  await writeFile(caFile, pagerDuty.ca);
  // tocsin.yaml with a PagerDuty service per level: a service is alerted once per incident,
  // so only this way does each level send PagerDuty a trigger the tally can count.
  const configFile = join(dataDir, "tocsin.yaml");
  await writeFile(
    configFile,
    pagerDutyPerLevelYaml(join(new URL("..", import.meta.url).pathname, "runbooks")),
  );
  const proxy = await DynamoFaultProxy.start({
    upstream: `http://127.0.0.1:${dynamoPort}`,
    seed: settings.seed,
  });
  const server = new ChaosServer(url, dataDir, {
    PORT: String(serverPort),
    TOCSIN_DATA_DIR: join(dataDir, "data"),
    TOCSIN_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    TOCSIN_API_TOKEN: API_TOKEN,
    TOCSIN_TIME_SCALE: String(settings.timeScale),
    TOCSIN_CONFIG: configFile,
    TOCSIN_DYNAMODB_PORT: String(dynamoPort),
    TOCSIN_DYNAMODB_ENDPOINT: proxy.endpoint,
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_SERVER: pagerDuty.server,
    // The PagerDuty fake's certificate, trusted by the child as a CA of its own.
    NODE_EXTRA_CA_CERTS: caFile,
  });
  const attempts: Attempt[] = [];
  const record = (a: Attempt) => attempts.push(a);
  const faultWindows: Window[] = [];
  const downWindows: Window[] = [];
  let result: ChaosResult;
  // The fakes, the proxy and the senders share this process: how late its event loop ran.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();

  try {
    log(`chaos: npm start on ${url}, data in ${dataDir} ...`);
    await server.start();
    const groups = groupScripts(random, settings);
    const runStart = Date.now();
    const hardStop = runStart + settings.scriptMs + settings.kills * 20_000 + 60_000;
    let loadDone = false;
    log(
      `chaos: ${groups.length} alert groups over ${settings.scriptMs / 1000} s, ${settings.kills} kills, storage faults at ${settings.faultRate} per request in each window ...`,
    );
    const firstIncidents = new Map<string, string>();
    const known: string[] = [];
    const runs = groups.map((group) =>
      runGroup({
        group,
        url: `${url}/webhooks/alertmanager`,
        token: WEBHOOK_TOKEN,
        runStart,
        groupIntervalMs: settings.groupIntervalMs,
        repeatIntervalMs: settings.repeatIntervalMs,
        frozenAt: settings.scriptMs,
        stopAt: () => hardStop,
        random,
        record,
        onFirstIncident: (episode, id) => {
          firstIncidents.set(`${group.name} ${episode}`, id);
          known.push(id);
        },
      }),
    );
    // Someone acknowledges the incident of the group's first alert once it paged them.
    const acknowledge = async (group: GroupScript) => {
      const state = group.acknowledgeAt === null ? null : groupState(group, group.acknowledgeAt);
      if (!state?.firing) return null;
      await sleep(Math.max(0, runStart + group.acknowledgeAt! - Date.now()));
      const key = `${group.name} ${state.index}`;
      const paged = () =>
        pagerDuty.events.some(
          (e) => e.dedup_key === firstIncidents.get(key) && e.event_action === "trigger",
        );
      while (!paged() && Date.now() < hardStop) await sleep(200);
      const incidentId = firstIncidents.get(key);
      if (!paged() || !incidentId) return null;
      return acknowledgeInSlack({
        url,
        signingSecret: SIGNING_SECRET,
        incidentId,
        giveUpMs: 30_000,
        record,
      });
    };
    const acknowledgements = Promise.all(groups.map(acknowledge));
    const reader = readerLoop({
      url,
      apiToken: API_TOKEN,
      known,
      everyMs: 250,
      until: () => loadDone,
      random,
      record,
    });
    const channels = misbehaveChannels({
      slack,
      pagerDuty,
      random,
      everyMs: settings.channelFaultEveryMs,
      until: () => loadDone,
    });

    for (let cycle = 0; cycle < settings.kills; cycle++) {
      await sleep(settings.calmMs);
      const { kind, plan } = faultPlanOf(cycle, settings.faultRate);
      const window: Window = { kind, from: Date.now(), to: Number.POSITIVE_INFINITY };
      faultWindows.push(window);
      proxy.setFaults(plan);
      await sleep(settings.faultWindowMs);
      proxy.setFaults(null);
      window.to = Date.now();
      await sleep(settings.calmMs);
      const down: Window = { kind: "down", from: Date.now(), to: Number.POSITIVE_INFINITY };
      downWindows.push(down);
      await server.kill();
      // What hung went with the process that waited for it.
      proxy.releaseHangs();
      await sleep(settings.downMs);
      await server.start();
      down.to = Date.now();
      const life = server.lives.at(-1)!;
      log(
        `chaos: kill ${cycle + 1}/${settings.kills} after a ${kind} window; healthy again in ${life.healthyAt! - life.spawnedAt} ms`,
      );
    }
    // The last kill is done: Slack and PagerDuty behave; Alertmanager sends what is left.
    loadDone = true;
    const [injected] = await Promise.all([channels, reader]);
    const groupRuns = await Promise.all(runs);
    const acks = (await acknowledgements).filter((a) => a !== null);
    const accepted = groupRuns.flatMap((run) => run.accepted);
    log(`chaos: ${accepted.length} alerts accepted; settling until the last levels are due ...`);

    // Settle: the last incident's last level falls due, plus the grace; PagerDuty goes quiet.
    const lastOpened = Math.max(runStart + settings.scriptMs, Date.now());
    await sleep(Math.max(0, lastOpened + offsets.at(-1)! + settings.graceMs - Date.now()));
    let heard = -1;
    while (heard !== pagerDuty.requests.length) {
      heard = pagerDuty.requests.length;
      await sleep(2_000);
    }

    const readAt = Date.now();
    const { incidents, phantoms } = await readAllIncidents(url, API_TOKEN);
    const pages = pagesReceived(pagerDuty);
    const outages = [...faultWindows, ...downWindows];
    const counted = tally({
      accepted,
      incidents,
      pages,
      levelOffsetsMs: offsets,
      readAt,
      graceMs: settings.graceMs,
      outages,
    });
    if (process.env.CHAOS_KEEP_DATA) {
      const keep = (name: string, value: unknown) =>
        writeFile(join(dataDir, name), JSON.stringify(value, null, 1));
      await keep("incidents.json", incidents);
      await keep("phantoms.json", phantoms);
      await keep("pages.json", pages);
      await keep("accepted.json", accepted);
      await keep("attempts.json", attempts);
      await keep("windows.json", { faultWindows, downWindows, readAt });
    }
    await server.stop();
    const answers = answersByWindow(attempts, faultWindows, downWindows);
    const serverErrors: Record<string, number> = {};
    for (const life of server.lives)
      for (const [message, n] of Object.entries(life.errors))
        serverErrors[message] = (serverErrors[message] ?? 0) + n;
    const notifications = { accepted: 0, refused: 0, "gave-up": 0 };
    for (const run of groupRuns)
      for (const key of Object.keys(notifications) as Array<keyof typeof notifications>)
        notifications[key] += run.notifications[key];
    result = {
      settings,
      environment: {
        node: process.version,
        cpus: cpus().length,
        date: new Date().toISOString(),
        loadAverage: loadavg()[0]!,
        harnessLoopDelayMs: {
          p99: Math.round(loopDelay.percentile(99) / 1e6),
          max: Math.round(loopDelay.max / 1e6),
        },
      },
      seconds: (Date.now() - startedAt) / 1000,
      kills: settings.kills,
      startupMs: server.lives.map((life) => (life.healthyAt ?? Number.NaN) - life.spawnedAt),
      alerts: { groups: groups.length, notifications, acceptedAlerts: accepted.length },
      acknowledgements: {
        clicked: acks.length,
        answered: acks.filter((a) => a.answeredAt !== null).length,
        outcomes: tallyOf(acks.map((a) => a.outcome ?? "never answered")),
      },
      tally: counted,
      phantoms,
      answers,
      storageFaults: storageFaultAnswers(
        answers,
        faultWindows.map((w) => w.kind),
      ),
      proxy: proxy.stats,
      channels: {
        injected,
        pagerDutyByStatus: tallyOf(pagerDuty.requests.map((r) => r.status)),
        slackByStatus: tallyOf(slack.calls.map((c) => c.status)),
        failedOnTimelines: failedOnTimelines(incidents),
      },
      serverErrors,
    };
  } finally {
    closeConnections();
    await server.stop();
    await proxy.close();
    await slack.close();
    await pagerDuty.close();
    if (process.env.CHAOS_KEEP_DATA)
      log(`chaos: data, server logs and what the run saw kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    ["", chaosMarkdown(result), "", "```json", JSON.stringify(result, null, 2), "```", ""].join(
      "\n",
    ),
  );
  const failing = countsThatShouldBeZero(result);
  if (process.env.CHAOS_STRICT && failing.length > 0) {
    log(`chaos: not 0: ${failing.map(([name, n]) => `${name} ${n}`).join(", ")}`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
