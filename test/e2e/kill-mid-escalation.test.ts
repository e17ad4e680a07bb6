import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { IncidentWithTimeline } from "../../functions/core/incident.js";
import { FakePagerDuty } from "../support/fake-pagerduty.js";
import { freePort } from "../support/free-port.js";
import { ROUTING_KEY } from "../support/local-with-fakes.js";
import { isPagerDutyChannel, pagerDutyPerLevelYaml } from "../support/pagerduty-per-level.js";
import { pollUntil, waitUntil } from "../support/poll-until.js";
import { postAlert } from "../support/post-alert.js";
import { type ProcessGroup, spawnProcessGroup } from "../support/process-group.js";
import { slackClick } from "../support/slack-click.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
// 15 minutes become 1.5 s: level 2 is due 1.5 s after the alert.
const SCALE = "600";
const WEBHOOK = randomBytes(18).toString("base64url");
const API = randomBytes(18).toString("base64url");
const SIGNING_SECRET = randomBytes(18).toString("hex");

let pagerDuty: FakePagerDuty | undefined;
let server: ProcessGroup | undefined;
let dir: string | undefined;
let configFile: string | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  await pagerDuty?.close();
  pagerDuty = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  configFile = undefined;
});

/** `npm start` on `dataDir`, paging the fake PagerDuty (its certificate trusted through Node's own variable). */
async function npmStart(
  port: number,
  dataDir: string,
  ca: string,
  scale = SCALE,
): Promise<ProcessGroup> {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(TOCSIN_|SLACK_|PAGERDUTY_)/.test(name) || name === "PORT" || name === "HOST")
      delete env[name];
  const started = spawnProcessGroup("npm", ["start"], {
    cwd: REPO,
    env: {
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
      TOCSIN_DATA_DIR: dataDir,
      ...(configFile ? { TOCSIN_CONFIG: configFile } : {}),
      TOCSIN_TIME_SCALE: scale,
      TOCSIN_WEBHOOK_TOKEN: WEBHOOK,
      TOCSIN_API_TOKEN: API,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_SERVER: pagerDuty!.server,
      NODE_EXTRA_CA_CERTS: ca,
    },
  });
  await Promise.race([
    pollUntil(
      async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined),
      {
        what: "npm start to answer /healthz",
        timeoutMs: STARTUP_TIMEOUT_MS,
        diagnostics: () => started.output(),
      },
    ),
    started.exited.then((exit) => {
      throw new Error(`npm start exited (${JSON.stringify(exit)}):\n${started.output()}`);
    }),
  ]);
  return started;
}

/** SIGKILL to the whole group, as a crash or the OOM killer would end it: nothing runs after. */
async function kill(group: ProcessGroup) {
  process.kill(-group.child.pid!, "SIGKILL");
  await group.exited;
}

/** The fake PagerDuty, a data directory, and a port for `npm start`. */
async function prepare() {
  pagerDuty = await FakePagerDuty.start();
  dir = await mkdtemp(join(tmpdir(), "tocsin-kill-"));
  const ca = join(dir, "pagerduty-ca.pem");
  await writeFile(ca, pagerDuty.ca);
  // A PagerDuty service per level, so that level 2 makes a request of its own to hold.
  configFile = join(dir, "tocsin.yaml");
  await writeFile(configFile, pagerDutyPerLevelYaml(join(REPO, "runbooks")));
  const port = await freePort();
  return { fake: pagerDuty, data: join(dir, "data"), ca, port, url: `http://127.0.0.1:${port}` };
}

/** The incident as the read API gives it. */
async function read(url: string, id: string): Promise<IncidentWithTimeline> {
  const response = await fetch(`${url}/incidents/${id}`, {
    headers: { authorization: `Bearer ${API}` },
  });
  return (await response.json()) as IncidentWithTimeline;
}

const level = (body: unknown) =>
  (body as { payload?: { custom_details?: { level?: number } } }).payload?.custom_details?.level;

describe("npm start killed mid-escalation", () => {
  it("delivers that level after the restart: the claim left it owed", async () => {
    const { fake, data, ca, port, url } = await prepare();
    server = await npmStart(port, data, ca);

    const firing = await postAlert(url, WEBHOOK, {
      labels: {
        alertname: "TrainingNaNLoss",
        job: "llama-killed",
        severity: "critical",
        team: "ml-training",
      },
    });
    expect(firing.status).toBe(202);
    const id = firing.incident!.id;
    const triggers = (which: number) =>
      fake.processed.filter(
        (e) => e.dedup_key === id && e.event_action === "trigger" && level(e) === which,
      );
    await waitUntil(() => triggers(1).length === 1, "level 1 paged", 15_000);

    // Level 2's page reaches PagerDuty and is held there: claimed, in flight, not recorded.
    const held = fake.holdNext((body) => body.dedup_key === id && level(body) === 2);
    await held.arrived;
    await kill(server);
    server = undefined;

    server = await npmStart(port, data, ca);
    await waitUntil(() => triggers(2).length === 1, "level 2 paged after the restart", 15_000);
    await waitUntil(
      async () =>
        (await read(url, id)).timeline.some((e) => e.type === "notified" && e.level === 2),
      "level 2 recorded",
      15_000,
    );
    const incident = await read(url, id);
    // Claimed once, before the kill; delivered once, after it.
    expect(incident.timeline.filter((e) => e.type === "escalated" && e.level === 2)).toHaveLength(
      1,
    );
    expect(
      incident.timeline.filter(
        (e) => e.type === "notified" && e.level === 2 && isPagerDutyChannel(e.channel),
      ),
    ).toMatchObject([{ outcome: "delivered", attempts: 1 }]);
    // The held request was never answered: the page after the restart is a new one.
    expect(fake.requests.filter((r) => level(r.body) === 2).map((r) => r.status)).toEqual([0, 202]);
  }, 90_000);

  it("tells PagerDuty an acknowledge and a resolve after the restart: the state change left them owed", async () => {
    const { fake, data, ca, port, url } = await prepare();
    // Real time: level 2 is 15 minutes away, so PagerDuty hears one trigger per incident.
    server = await npmStart(port, data, ca, "1");

    const labels = (job: string) => ({
      alertname: "TrainingNaNLoss",
      job,
      severity: "critical",
      team: "ml-training",
    });
    const resolving = (await postAlert(url, WEBHOOK, { labels: labels("llama-resolved") }))
      .incident!.id;
    const acknowledging = (await postAlert(url, WEBHOOK, { labels: labels("llama-acked") }))
      .incident!.id;
    const heard = (id: string) =>
      fake.processed.filter((e) => e.dedup_key === id).map((e) => e.event_action);
    await waitUntil(
      () => heard(resolving).includes("trigger") && heard(acknowledging).includes("trigger"),
      "both paged",
      15_000,
    );

    // The resolve and the acknowledge are stored, and their mirrors reach PagerDuty and are
    // held there: then the process dies, before PagerDuty has either.
    const resolveHeld = fake.holdNext(
      (body) => body.dedup_key === resolving && body.event_action === "resolve",
    );
    const ackHeld = fake.holdNext(
      (body) => body.dedup_key === acknowledging && body.event_action === "acknowledge",
    );
    const resolved = await postAlert(url, WEBHOOK, {
      labels: labels("llama-resolved"),
      status: "resolved",
    });
    expect(resolved.status).toBe(202);
    const click = slackClick({
      signingSecret: SIGNING_SECRET,
      actionId: "acknowledge",
      value: acknowledging,
      user: { id: "U0DMITRI1", username: "dmitri" },
      timestamp: new Date(),
    });
    const clicked = await fetch(`${url}/slack/interactions`, {
      method: "POST",
      headers: click.headers,
      body: click.body,
    });
    expect(clicked.status).toBe(200);
    await Promise.all([resolveHeld.arrived, ackHeld.arrived]);
    await kill(server);
    server = undefined;
    expect(fake.alertState(resolving)).toBe("triggered");
    expect(fake.alertState(acknowledging)).toBe("triggered");

    server = await npmStart(port, data, ca, "1");
    await waitUntil(
      () =>
        fake.alertState(resolving) === "resolved" &&
        fake.alertState(acknowledging) === "acknowledged",
      "the resolve and the acknowledge told to PagerDuty after the restart",
      15_000,
    );
    const told = (incident: IncidentWithTimeline, kind: string) =>
      incident.timeline.some(
        (e) =>
          e.type === "notified" &&
          isPagerDutyChannel(e.channel) &&
          e.detail?.startsWith(`${kind}:`),
      );
    await waitUntil(
      async () =>
        told(await read(url, resolving), "resolve") &&
        told(await read(url, acknowledging), "acknowledge"),
      "both recorded",
      15_000,
    );
    // Exactly the state stored, once each after the restart; nothing triggered again.
    expect((await read(url, resolving)).status).toBe("resolved");
    expect((await read(url, acknowledging)).status).toBe("acknowledged");
    expect(heard(resolving)).toEqual(["trigger", "resolve"]);
    expect(heard(acknowledging)).toEqual(["trigger", "acknowledge"]);
    // Settled by the mirror once PagerDuty had it: nothing left owed.
    expect((await read(url, resolving)).owedState).toBeUndefined();
    expect((await read(url, acknowledging)).owedState).toBeUndefined();
  }, 90_000);
});
