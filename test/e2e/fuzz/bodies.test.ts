/**
 * Fuzz: hostile bodies on every route that reads one, authenticated so that they reach the
 * parsers: real Alertmanager, Grafana, Slack and PagerDuty payloads with parts replaced or keys added
 * (Object.prototype's names among them), arbitrary JSON, arbitrary text; sign-in forms. No
 * 5xx, a refusal writes nothing, an acceptance says what it accepted, and the server stays up.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixture } from "../../support/fixtures.js";
import { rawJson } from "../../support/raw-http.js";
import { slackHeaders } from "../../support/slack-click.js";
import {
  expectAlive,
  expectSoundAnswer,
  freshClientAddress,
  fuzzOptions,
  hostile,
  requestBytes,
  send,
  useFuzzServer,
  wellFormed,
} from "./fuzz-server.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path in `value` (objects and arrays, not their leaves' characters). */
function paths(value: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const here = [at];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => paths(v, [...at, i])));
  if (value && typeof value === "object")
    return here.concat(...Object.entries(value).map(([k, v]) => paths(v, [...at, k])));
  return here;
}

/** Sets `key` as an own, enumerable property, even `__proto__` (assignment would not). */
function own(target: Record<string, Json>, key: string, value: Json) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const PROTOTYPE_KEYS = ["__proto__", "constructor", "toString", "prototype", "hasOwnProperty"];

/** A JSON value to put somewhere: arbitrary JSON, hostile text, or nesting deeper than usual. */
const replacement: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, 0, -1, 1e308, [], {}, "", [null]) },
  {
    weight: 1,
    arbitrary: fc.nat({ max: 2_000 }).map((depth) => {
      let nested: Json = "deep";
      for (let i = 0; i < depth; i++) nested = [nested];
      return nested;
    }),
  },
);

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom("replace", "replace", "add", "delete"),
  key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), hostile),
  value: replacement,
});

interface Mutation {
  path: number;
  kind: "replace" | "add" | "delete";
  key: string;
  value: Json;
}

/** `base` with some parts replaced or deleted, or keys added to its objects. */
function mutated(base: Json, mutations: readonly Mutation[]): Json {
  const copy = structuredClone(base);
  for (const m of mutations) {
    const all = paths(copy);
    const path = all[m.path % all.length]!;
    if (path.length === 0) continue;
    const parent = path.slice(0, -1).reduce<Json>((node, step) => (node as never)[step], copy);
    const last = path[path.length - 1]!;
    const container = parent as Record<string, Json>;
    if (m.kind === "replace") container[last as string] = m.value;
    else if (m.kind === "delete") delete container[last as string];
    else {
      const target = container[last as string];
      if (target && typeof target === "object" && !Array.isArray(target))
        own(target, m.key, m.value);
    }
  }
  return copy;
}

const jsonBody = (fixtures: Json[]) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }))
        .map(([base, mutations]) => JSON.stringify(mutated(base, mutations))),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: hostile },
  );

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
];

describe("fuzz: hostile bodies on every route that reads one", { timeout: 60_000 }, () => {
  const fuzz = useFuzzServer();
  /** Incidents accepted so far: Slack actions name them, so clicks reach real incidents. */
  const accepted: string[] = [];

  /**
   * Sends, checks the answer, and checks that a refusal wrote nothing (with `mayWrite`
   * false, that nothing was written whatever the answer).
   */
  const exchange = async (
    what: string,
    bytes: Buffer,
    options: { from?: string; compare?: boolean; mayWrite?: boolean } = {},
  ) => {
    const answer = await send(fuzz.server.url, bytes, { from: options.from ?? "127.0.0.1" });
    const status = expectSoundAnswer(answer, what);
    const accepted = status < 300 && options.mayWrite !== false;
    await fuzz.expectWrittenOnlyIfAccepted(`${what} (${status})`, accepted, options);
    return { status, body: rawJson(answer) };
  };

  it.each([
    [
      "POST /webhooks/alertmanager",
      [
        fixture("alertmanager-0.25-firing.json"),
        fixture("alertmanager-0.25-firing-warning.json"),
        fixture("alertmanager-0.25-resolved.json"),
      ],
      0xa1e7,
    ],
    ["POST /webhooks/grafana", [fixture("grafana-webhook-firing.json")], 0x96af],
  ])("%s: answers below 500, writes only what it accepts", async (route, fixtures, seed) => {
    const path = route.split(" ")[1]!;
    await fc.assert(
      fc.asyncProperty(
        jsonBody(fixtures as Json[]),
        fc.constantFrom(...CONTENT_TYPES),
        async (body, type) => {
          const headers: Array<[string, string]> = [
            ["authorization", `Bearer ${fuzz.server.webhookToken}`],
            ...(type ? [["content-type", type] as [string, string]] : []),
          ];
          const { status, body: answer } = await exchange(
            `${route} ${body.slice(0, 300)}`,
            requestBytes("POST", path, headers, body),
          );
          if (status === 202) {
            const ok = answer as { accepted: number; incidents: Array<{ id: string }> };
            // A resolve of nothing open is accepted and names no incident.
            expect(ok.incidents.length).toBeLessThanOrEqual(ok.accepted);
            accepted.push(...ok.incidents.map((i) => i.id));
          }
        },
      ),
      fuzzOptions(300, seed),
    );
    await expectAlive(fuzz.server.url);
  });

  it("POST /login and /logout: answer hostile forms below 500 and write nothing", async () => {
    const form = fc.oneof(
      fc
        .tuple(hostile, hostile)
        .map(
          ([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`,
        ),
      hostile.map((token) => `token=${encodeURIComponent(wellFormed(token))}`),
      hostile,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/login", "/logout"),
        form,
        fc.constantFrom("", "http://127.0.0.1", "null", "https://evil.example"),
        async (path, body, origin) => {
          const headers: Array<[string, string]> = [
            ["content-type", "application/x-www-form-urlencoded"],
            ...(origin ? [["origin", origin] as [string, string]] : []),
          ];
          const { status } = await exchange(
            `POST ${path} ${body.slice(0, 200)}`,
            requestBytes("POST", path, headers, body),
            { from: freshClientAddress() },
          );
          expect([303, 400, 401, 403, 413, 429]).toContain(status);
        },
      ),
      fuzzOptions(200, 0x1061),
    );
    await expectAlive(fuzz.server.url);
  });
  /** Signed clicks built from Slack's documented payload, some parts replaced, on `value`. */
  const signedClicks = (value: fc.Arbitrary<string>) => {
    const click = fixture("slack-block-actions.json") as Json;
    const payload = fc
      .tuple(
        fc.array(mutation, { maxLength: 3 }),
        fc.constantFrom("acknowledge", "resolve", "snooze", "snooze_longer", "escalate"),
        value,
        fc.constantFrom("", "", "|30m", "|1h", "|4h", "|5y", "|"),
      )
      .map(([mutations, actionId, id, length]) => {
        const base = structuredClone(click) as { actions: Array<Record<string, Json>> } & Json;
        base.actions[0]!.action_id = actionId;
        base.actions[0]!.value = `${id}${length}`;
        const out = mutated(base, mutations) as Record<string, Json>;
        // Never let a fuzzed click send tocsin's answer to Slack's real servers.
        if (out && typeof out === "object" && !Array.isArray(out))
          out.response_url = "http://127.0.0.1:9/response";
        return JSON.stringify(out);
      });
    return fc.oneof(
      { weight: 5, arbitrary: payload.map((json) => `payload=${encodeURIComponent(json)}`) },
      { weight: 1, arbitrary: payload },
      { weight: 1, arbitrary: hostile },
    );
  };
  const click = (form: string, options: { compare: boolean; mayWrite?: boolean }) => {
    const signed = slackHeaders(fuzz.server.slackSigningSecret, new Date(), form);
    return exchange(
      `POST /slack/interactions ${form.slice(0, 300)}`,
      requestBytes("POST", "/slack/interactions", Object.entries(signed), form),
      options,
    );
  };

  // Nothing to act on, so nothing is written, not even the replay guard's record of the
  // signature: it is written only for a valid request about to change an incident.
  it("POST /slack/interactions, signed, on no incident: answers below 500 and writes nothing", async () => {
    const noIncident = fc.oneof(fc.constant("00000000-0000-4000-8000-000000000000"), hostile);
    await fc.assert(
      fc.asyncProperty(signedClicks(noIncident), async (form) => {
        await click(form, { compare: true, mayWrite: false });
      }),
      fuzzOptions(200, 0x51ac),
    );
    await expectAlive(fuzz.server.url);
  });

  /**
   * Signed PagerDuty v3 webhooks built from PagerDuty's documented payload, some parts
   * replaced, about the incident `key` names, occurring now.
   */
  const signedWebhooks = (key: fc.Arbitrary<string>) => {
    const documented = fixture("pagerduty-v3-incident-priority-updated.json") as {
      event: Record<string, Json> & { data: Record<string, Json> };
    };
    const payload = fc
      .tuple(
        fc.array(mutation, { maxLength: 3 }),
        fc.constantFrom("incident.acknowledged", "incident.resolved", "incident.reassigned"),
        key,
      )
      .map(([mutations, type, incidentKey]) => {
        const base = structuredClone(documented);
        base.event.event_type = type;
        base.event.occurred_at = new Date().toISOString();
        base.event.data.incident_key = incidentKey;
        return JSON.stringify(mutated(base as unknown as Json, mutations));
      });
    return fc.oneof({ weight: 6, arbitrary: payload }, { weight: 1, arbitrary: hostile });
  };
  const webhook = (body: string, options: { compare: boolean; mayWrite?: boolean }) => {
    const signature = createHmac("sha256", fuzz.server.pagerDutyWebhookSecret)
      .update(body)
      .digest("hex");
    return exchange(
      `POST /webhooks/pagerduty ${body.slice(0, 300)}`,
      requestBytes(
        "POST",
        "/webhooks/pagerduty",
        [
          ["content-type", "application/json"],
          ["x-pagerduty-signature", `v1=${signature}`],
        ],
        body,
      ),
      options,
    );
  };

  it("POST /webhooks/pagerduty, signed, on no incident: answers below 500 and writes nothing", async () => {
    const noIncident = fc.oneof(fc.constant("00000000-0000-4000-8000-000000000000"), hostile);
    await fc.assert(
      fc.asyncProperty(signedWebhooks(noIncident), async (body) => {
        const { status, body: answer } = await webhook(body, { compare: true, mayWrite: false });
        if (status === 200) expect(answer).toMatchObject({ ignored: expect.any(String) });
      }),
      fuzzOptions(200, 0x9d0c),
    );
    await expectAlive(fuzz.server.url);
  });

  // Last: an action that is done goes on in the escalation engine (it stops, mirrors or
  // resumes the escalation) after the answer, so the table is not compared from here on.
  it("POST /slack/interactions, signed, on real incidents: answers below 500", async () => {
    expect(accepted.length, "the webhook fuzz accepted no alert to click on").toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(signedClicks(fc.constantFrom(...accepted)), async (form) => {
        const { status, body } = await click(form, { compare: false });
        if (status === 200) expect(body).toMatchObject({ outcome: expect.any(String) });
      }),
      fuzzOptions(150, 0x5ac7),
    );
    await expectAlive(fuzz.server.url);
  });

  // After the clicks, on what they left: acknowledgements and resolves from PagerDuty act.
  it("POST /webhooks/pagerduty, signed, on real incidents: answers below 500", async () => {
    await fc.assert(
      fc.asyncProperty(signedWebhooks(fc.constantFrom(...accepted)), async (body) => {
        const { status, body: answer } = await webhook(body, { compare: false });
        if (status === 200) {
          expect(Object.keys(answer as object)[0]).toMatch(/^(status|duplicate|ignored)$/);
        }
      }),
      fuzzOptions(150, 0x9d0d),
    );
    await expectAlive(fuzz.server.url);
  });
});
