/**
 * tocsin behind a real Prometheus Alertmanager 0.25: alerts go in through Alertmanager's API,
 * Alertmanager groups, repeats and resolves them, and tocsin must turn its real webhook
 * deliveries into one incident per fingerprint.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../functions/adapters/config-file.js";
import { labelsFingerprint } from "../../functions/core/fingerprint.js";
import type { Incident, IncidentWithTimeline } from "../../functions/core/incident.js";
import { type LocalServer, startLocalServer } from "../../functions/local/server.js";
import {
  AlertFeed,
  type PostableAlert,
  type RunningAlertmanager,
  requireAlertmanager,
  startAlertmanager,
} from "../support/alertmanager-process.js";
import { pollUntil } from "../support/poll-until.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const installed = requireAlertmanager("the Alertmanager end-to-end test");

/** Prometheus would have been evaluating the rules for a while: the alerts fired a minute ago. */
const FIRED_AT = new Date(Date.now() - 60_000).toISOString();

/** Three alerts and where the default tocsin.yaml routes them. */
const ALERTS = {
  TrainingNaNLoss: {
    labels: { severity: "critical", team: "ml-training", job: "llama-70b", cluster: "gpu-east" },
    summary: "Loss is NaN on llama-70b",
    expected: { severity: "critical", team: "ml-training" },
  },
  InferenceErrorSpike: {
    labels: { severity: "high", team: "ml-inference", service: "chat-api", cluster: "gpu-west" },
    summary: "5xx above 5% on chat-api",
    expected: { severity: "high", team: "ml-inference" },
  },
  KVCacheFull: {
    labels: { severity: "warning", team: "ml-inference", instance: "vllm-3:8000" },
    summary: "KV cache 98% full on vllm-3",
    expected: { severity: "warning", team: "ml-inference" },
  },
} as const;
type AlertName = keyof typeof ALERTS;
const NAMES = Object.keys(ALERTS) as AlertName[];

const describeIncident = (i: Incident) =>
  `${i.title} ${i.fingerprint} ${i.status} x${i.occurrences} ${i.id.slice(0, 8)}`;

const labelsOf = (name: AlertName) => ({ alertname: name, ...ALERTS[name].labels });

function postable(name: AlertName, times: { startsAt: string; endsAt?: string }): PostableAlert {
  return {
    labels: labelsOf(name),
    annotations: { summary: ALERTS[name].summary },
    generatorURL: `http://prometheus.example:9090/graph?g0.expr=${name}`,
    ...times,
  };
}

describe.skipIf(!installed)("tocsin behind a real Alertmanager 0.25", { timeout: 40_000 }, () => {
  const webhookToken = randomBytes(24).toString("base64url");
  const apiToken = randomBytes(24).toString("base64url");
  let tocsin: LocalServer | undefined;
  let alertmanager: RunningAlertmanager | undefined;
  let feed: AlertFeed | undefined;
  /** Alertmanager's fingerprint of each alert, as its API reports it. */
  const fingerprints = new Map<AlertName, string>();
  /** The first incident of each alert, once phase one has seen it. */
  const firstIncidents = new Map<AlertName, Incident>();

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${tocsin!.url}${path}`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    if (response.status !== 200) {
      throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    }
    return (await response.json()) as T;
  }
  const listIncidents = async (query = "") =>
    (await api<{ incidents: Incident[] }>(`/incidents?limit=100${query}`)).incidents;
  const getIncident = (id: string) => api<IncidentWithTimeline>(`/incidents/${id}`);
  /** Alertmanager's recent log without the once-a-second flush lines: receipts and notifications. */
  const diagnostics = () => {
    const lines = (alertmanager?.logs() ?? "")
      .split("\n")
      .filter((l) => !l.includes("msg=flushing"));
    return `Alertmanager's log (last 40 lines):\n${lines.slice(-40).join("\n")}`;
  };

  beforeAll(async () => {
    tocsin = await startLocalServer({
      config: loadConfigFile(fileURLToPath(new URL("../../tocsin.yaml", import.meta.url))),
      host: "127.0.0.1",
      port: 0,
      dataDir: ":memory:",
      webhookToken,
      apiToken,
      logger: new Logger({ serviceName: "tocsin-e2e", logLevel: "WARN" }),
    });
    alertmanager = await startAlertmanager({
      webhookUrl: `${tocsin.url}/webhooks/alertmanager`,
      bearerToken: webhookToken,
      groupWait: "1s",
      groupInterval: "1s",
      repeatInterval: "2s",
    });
    feed = new AlertFeed(alertmanager, 1_000);
  }, 30_000);

  afterAll(async () => {
    await feed?.stop().catch(() => undefined);
    await alertmanager?.stop();
    await tocsin?.close();
  });

  it("opens one incident per alert and counts Alertmanager's repeated deliveries on it", async () => {
    for (const name of NAMES) await feed!.set(name, postable(name, { startsAt: FIRED_AT }));
    feed!.start();

    const amAlerts = await pollUntil(
      async () => {
        const alerts = await alertmanager!.listAlerts();
        return alerts.length === NAMES.length ? alerts : undefined;
      },
      { what: "Alertmanager to hold the three alerts", timeoutMs: 5_000 },
    );
    for (const alert of amAlerts) {
      fingerprints.set(alert.labels.alertname as AlertName, alert.fingerprint);
    }

    // Repeats arrive every repeat_interval; each must count on the open incident, not open one.
    const incidents = await pollUntil(
      async () => {
        const all = await listIncidents();
        const repeated = NAMES.every((name) =>
          all.some((i) => i.fingerprint === fingerprints.get(name) && i.occurrences >= 2),
        );
        if (repeated) return all;
        throw new Error(`incidents so far: ${JSON.stringify(all.map(describeIncident))}`);
      },
      { what: "every alert to be delivered twice or more", timeoutMs: 15_000, diagnostics },
    );

    expect(incidents).toHaveLength(NAMES.length);
    for (const name of NAMES) {
      const fingerprint = fingerprints.get(name)!;
      // tocsin computes the same fingerprint as Alertmanager for alerts that come without one.
      expect(labelsFingerprint(labelsOf(name))).toBe(fingerprint);
      const mine = incidents.filter((i) => i.fingerprint === fingerprint);
      expect(mine, name).toHaveLength(1);
      const incident = mine[0]!;
      expect(incident, name).toMatchObject({
        status: "triggered",
        source: "alertmanager",
        severity: ALERTS[name].expected.severity,
        team: ALERTS[name].expected.team,
        title: ALERTS[name].summary,
        labels: labelsOf(name),
        resolvedAt: null,
      });
      expect(incident.occurrences, name).toBeGreaterThan(1);
      expect(incident.lastSeenAt > incident.createdAt, name).toBe(true);

      const detail = await getIncident(incident.id);
      expect(detail.timeline[0], name).toMatchObject({ type: "triggered" });
      expect(
        detail.timeline.filter((e) => e.type === "triggered"),
        name,
      ).toHaveLength(1);
      firstIncidents.set(name, incident);
    }
  });

  it("resolves the incident when Alertmanager sends the alert resolved, and only that one", async () => {
    const name: AlertName = "InferenceErrorSpike";
    const open = firstIncidents.get(name);
    expect(open, "phase one must have passed").toBeDefined();
    const endsAt = new Date(Date.now() - 1_000).toISOString();
    await feed!.set(name, postable(name, { startsAt: FIRED_AT, endsAt }));

    const resolved = await pollUntil(
      async () => {
        const incident = await getIncident(open!.id);
        if (incident.status === "resolved") return incident;
        throw new Error(`the incident is ${describeIncident(incident)}`);
      },
      { what: `${name} to be resolved in tocsin`, timeoutMs: 10_000, diagnostics },
    );

    expect(resolved.resolvedAt).not.toBeNull();
    expect(resolved.resolvedAt! >= resolved.createdAt).toBe(true);
    // The duplicates counted while it was open stay on the resolved incident.
    expect(resolved.occurrences).toBeGreaterThanOrEqual(open!.occurrences);
    expect(resolved.timeline[0]).toMatchObject({ type: "triggered" });
    // Delivery outcomes may follow; the last change of state is the resolve.
    const changes = resolved.timeline.filter((e) =>
      ["triggered", "acknowledged", "resolved"].includes(e.type),
    );
    expect(changes.at(-1)).toMatchObject({ type: "resolved" });
    expect(resolved.timeline.filter((e) => e.type === "resolved")).toHaveLength(1);

    // The others stay open and keep counting Alertmanager's repeats on the same incidents.
    const others = NAMES.filter((n) => n !== name).map((n) => firstIncidents.get(n)!);
    const stillOpen = await pollUntil(
      async () => {
        const open = await listIncidents("&status=triggered");
        const grown = others.every((before) =>
          open.some((i) => i.id === before.id && i.occurrences > before.occurrences),
        );
        return grown ? open : undefined;
      },
      { what: "another repeat of the alerts still firing", timeoutMs: 10_000, diagnostics },
    );
    expect(stillOpen.map((i) => i.id).sort()).toEqual(others.map((i) => i.id).sort());
    expect((await getIncident(open!.id)).status).toBe("resolved");
  });

  it("opens a new incident when the resolved alert fires again, leaving the old one resolved", async () => {
    const name: AlertName = "InferenceErrorSpike";
    const first = firstIncidents.get(name);
    expect(first, "phase one must have passed").toBeDefined();
    const old = await getIncident(first!.id);
    expect(old.status, "phase two must have passed").toBe("resolved");
    const fingerprint = fingerprints.get(name)!;
    await feed!.set(name, postable(name, { startsAt: new Date().toISOString() }));

    const reopened = await pollUntil(
      async () => {
        const mine = (await listIncidents()).filter((i) => i.fingerprint === fingerprint);
        const found = mine.find((i) => i.id !== old.id);
        if (found) return found;
        throw new Error(
          `incidents of ${fingerprint}: ${JSON.stringify(mine.map(describeIncident))}`,
        );
      },
      { what: `a second incident for ${name}`, timeoutMs: 10_000, diagnostics },
    );

    expect(reopened).toMatchObject({
      status: "triggered",
      source: "alertmanager",
      severity: "high",
      team: "ml-inference",
      resolvedAt: null,
    });
    expect(reopened.createdAt >= old.resolvedAt!).toBe(true);
    const detail = await getIncident(reopened.id);
    expect(detail.timeline[0]).toMatchObject({ type: "triggered" });
    expect(detail.timeline.some((e) => e.type === "resolved")).toBe(false);

    const oldNow = await getIncident(old.id);
    expect(oldNow).toMatchObject({ status: "resolved", resolvedAt: old.resolvedAt });
    // Nothing changed its state again (delivery outcomes of the resolve may still land).
    const states = (i: typeof old) =>
      i.timeline.filter((e) => !["notified", "notification_failed"].includes(e.type));
    expect(states(oldNow)).toEqual(states(old));

    const all = await listIncidents();
    expect(all).toHaveLength(NAMES.length + 1);
    for (const other of NAMES) {
      const count = all.filter((i) => i.fingerprint === fingerprints.get(other)).length;
      expect(count, other).toBe(other === name ? 2 : 1);
    }
    expect((await listIncidents("&status=triggered")).map((i) => i.fingerprint).sort()).toEqual(
      NAMES.map((n) => fingerprints.get(n)!).sort(),
    );
    await feed!.stop();
  });
});
