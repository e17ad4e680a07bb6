import { alertmanagerDelivery, SECOND_EPISODE } from "./alerts.js";
import type { JsonHttp } from "./http-client.js";
import { byAccess, type RequestCounter, type RequestCounts, total } from "./request-counter.js";

export interface RequestCost {
  case: string;
  samples: number;
  /** Mean HTTP requests to DynamoDB per sample. */
  requests: number;
  reads: number;
  writes: number;
  /** Mean requests per sample, by operation. */
  byOperation: Record<string, number>;
  /** Mean failed requests per sample, by operation and error. */
  failures: Record<string, number>;
  /** Mean retries per sample (attempts beyond the first). */
  retries: number;
  target?: { max: number; of: "requests" | "writes"; note: string };
  verdict?: "ok" | "over";
}

interface Incidents {
  incidents: Array<{ id: string; status: string; deduplicated: boolean }>;
}

export interface RequestCostsResult {
  costs: RequestCost[];
  /** Answers that were not what the contract says (wrong status, dedup flag or id). */
  anomalies: string[];
}

const mean = (record: Record<string, number>, samples: number) =>
  Object.fromEntries(Object.entries(record).map(([key, n]) => [key, n / samples]));

function toCost(name: string, samples: number, counts: RequestCounts): RequestCost {
  const access = byAccess(counts.attempts);
  const calls = total(counts.calls);
  return {
    case: name,
    samples,
    requests: total(counts.attempts) / samples,
    reads: access.read / samples,
    writes: access.write / samples,
    byOperation: mean(counts.attempts, samples),
    failures: mean(counts.errors, samples),
    retries: (counts.reportedAttempts - calls) / samples,
  };
}

function judge(cost: RequestCost, max: number, of: "requests" | "writes", note: string) {
  const measured = of === "requests" ? cost.requests : cost.writes;
  // A duplicate must be one write and nothing else: any read counts against it too.
  const over = measured > max || (of === "writes" && cost.requests > max);
  cost.target = { max, of, note };
  cost.verdict = over ? "over" : "ok";
}

/**
 * Sends each delivery of an incident's life once per fingerprint, sequentially, and reads
 * the DynamoDB requests each kind of delivery cost off the counter.
 */
export async function measureRequestCosts(options: {
  http: JsonHttp;
  counter: RequestCounter;
  webhookToken: string;
  apiToken: string;
  fingerprints: number;
}): Promise<RequestCostsResult> {
  const { http, counter, webhookToken, apiToken, fingerprints } = options;
  const keys = Array.from({ length: fingerprints }, (_, i) => `cost-${i}`);
  const anomalies: string[] = [];
  const costs: RequestCost[] = [];
  const firstIds = new Map<string, string>();
  const reopenedIds = new Map<string, string>();

  const phase = async (name: string, samples: number, run: (i: number) => Promise<void>) => {
    const before = counter.snapshot();
    for (let i = 0; i < samples; i++) await run(i);
    const cost = toCost(name, samples, counter.since(before));
    costs.push(cost);
    return cost;
  };
  const deliver = async (key: string, status: "firing" | "resolved", episode?: Date) => {
    const answer = await http.post(
      "/webhooks/alertmanager",
      webhookToken,
      alertmanagerDelivery(key, status, episode),
    );
    if (answer.status !== 202) {
      anomalies.push(`${status} ${key}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      return undefined;
    }
    return (answer.body as Incidents).incidents[0];
  };
  const expect = (what: string, ok: boolean, detail: unknown) => {
    if (!ok) anomalies.push(`${what}: ${JSON.stringify(detail)}`);
  };

  judge(
    await phase("new firing alert", fingerprints, async (i) => {
      const incident = await deliver(keys[i]!, "firing");
      expect("new", incident?.deduplicated === false && incident.status === "triggered", incident);
      if (incident) firstIds.set(keys[i]!, incident.id);
    }),
    3,
    "requests",
    "≤ 3",
  );
  judge(
    await phase("duplicate (same fingerprint, open)", fingerprints, async (i) => {
      const incident = await deliver(keys[i]!, "firing");
      expect(
        "duplicate",
        incident?.deduplicated === true && incident.id === firstIds.get(keys[i]!),
        incident,
      );
    }),
    1,
    "writes",
    "1 write",
  );
  judge(
    await phase("resolve", fingerprints, async (i) => {
      const incident = await deliver(keys[i]!, "resolved");
      expect(
        "resolve",
        incident?.status === "resolved" && incident.id === firstIds.get(keys[i]!),
        incident,
      );
    }),
    2,
    "requests",
    "≤ 2",
  );
  await phase("resolve again (repeated delivery)", fingerprints, async (i) => {
    const incident = await deliver(keys[i]!, "resolved");
    expect(
      "repeated resolve",
      incident?.status === "resolved" && incident.id === firstIds.get(keys[i]!),
      incident,
    );
  });
  await phase("late firing of the resolved episode", fingerprints, async (i) => {
    const incident = await deliver(keys[i]!, "firing");
    expect(
      "late firing",
      incident?.deduplicated === true &&
        incident.status === "resolved" &&
        incident.id === firstIds.get(keys[i]!),
      incident,
    );
  });
  judge(
    await phase("firing of a new episode after resolve (new incident)", fingerprints, async (i) => {
      const incident = await deliver(keys[i]!, "firing", SECOND_EPISODE);
      expect(
        "reopen",
        incident?.deduplicated === false && incident.id !== firstIds.get(keys[i]!),
        incident,
      );
      if (incident) reopenedIds.set(keys[i]!, incident.id);
    }),
    3,
    "requests",
    "≤ 3 (as new)",
  );

  const read = async (what: string, path: string) => {
    const answer = await http.get(path, apiToken);
    if (answer.status !== 200) anomalies.push(`${what}: HTTP ${answer.status}`);
    return answer.body;
  };
  let listed = 0;
  const listCost = await phase("GET /incidents (first page)", 5, async () => {
    const body = (await read("list", "/incidents")) as Incidents;
    listed = body.incidents.length;
  });
  listCost.case = `GET /incidents (first page, ${listed} incidents)`;
  await phase("GET /incidents/{id} (open)", fingerprints, async (i) => {
    await read("get open", `/incidents/${reopenedIds.get(keys[i]!)}`);
  });
  await phase("GET /incidents/{id} (resolved)", fingerprints, async (i) => {
    await read("get resolved", `/incidents/${firstIds.get(keys[i]!)}`);
  });
  return { costs, anomalies };
}
