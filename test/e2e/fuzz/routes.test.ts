/**
 * Fuzz: every route of the local server (ROUTE_KEYS, GET /metrics, GET /healthz) with hostile
 * methods, path segments, query strings, headers and tokens, sent as raw bytes. No answer may
 * be a 5xx, none may be missing, a refusal writes nothing, and the server answers /healthz
 * afterwards.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { ROUTE_KEYS } from "../../../functions/entry/route-keys.js";
import {
  expectAlive,
  expectSoundAnswer,
  freshClientAddress,
  fuzzOptions,
  hostile,
  inTarget,
  requestBytes,
  send,
  useFuzzServer,
} from "./fuzz-server.js";

const ROUTES = [...Object.values(ROUTE_KEYS).flat(), "GET /metrics"];
const QUERY_NAMES = [
  "status",
  "severity",
  "team",
  "since",
  "until",
  "limit",
  "cursor",
  "format",
  "level",
  "minLevel",
  "incident",
  "view",
];
const HEADER_NAMES = [
  "authorization",
  "cookie",
  "origin",
  "content-type",
  "accept",
  "x-forwarded-for",
  "x-slack-signature",
  "x-slack-request-timestamp",
  "x-grafana-alerting-signature",
  "x-grafana-alerting-timestamp",
  "expect",
  "user-agent",
];

/**
 * A header value as a client may send it, short of a line break (which would end the header):
 * mostly text Node's parser lets through, sometimes bytes it refuses.
 */
const headerValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 60 }) },
  { weight: 1, arbitrary: hostile.map((value) => value.replace(/[\r\n]/g, "")) },
);

/** Mostly null (the route as it is), sometimes `arbitrary`. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

const routeCase = fc.record({
  route: fc.constantFrom(...ROUTES),
  method: sometimes(
    fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get", "BREW"),
  ),
  segment: hostile,
  encoding: fc.constantFrom("encoded", "encoded", "encoded", "mixed", "mixed", "raw"),
  tail: sometimes(hostile),
  query: fc.array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...QUERY_NAMES) },
        { weight: 1, arbitrary: hostile },
      ),
      hostile,
    ),
    { maxLength: 4 },
  ),
  auth: fc.constantFrom("right", "right", "right", "wrong", "none", "basic", "session"),
  token: headerValue,
  headers: fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 3 }),
  body: sometimes(hostile),
});

describe("fuzz: every route, hostile paths, queries and headers", { timeout: 60_000 }, () => {
  const fuzz = useFuzzServer();

  const tokenFor = (route: string) =>
    route.includes("/webhooks/") ? fuzz.server.webhookToken : fuzz.server.apiToken;

  it("answers every request below 500, writes nothing when it refuses, and stays up", async () => {
    await fc.assert(
      fc.asyncProperty(routeCase, async (c) => {
        const [routeMethod, template] = c.route.split(" ") as [string, string];
        const method = c.method ?? routeMethod;
        const path =
          template.replace("{id}", inTarget(c.segment, c.encoding)) +
          (c.tail !== null ? `/${inTarget(c.tail, c.encoding)}` : "");
        const query = c.query
          .map(([name, value]) => `${inTarget(name, c.encoding)}=${inTarget(value, c.encoding)}`)
          .join("&");
        const headers: Array<[string, string]> = [...c.headers];
        if (c.auth === "right") headers.push(["authorization", `Bearer ${tokenFor(c.route)}`]);
        if (c.auth === "wrong") headers.push(["authorization", `Bearer ${c.token}`]);
        if (c.auth === "basic")
          headers.push(["authorization", `Basic ${Buffer.from(`:${c.token}`).toString("base64")}`]);
        if (c.auth === "session")
          headers.push(["cookie", `tocsin_session=v1.9999999999.${c.token}`]);
        const target = query ? `${path}?${query}` : path;
        const bytes = requestBytes(method, target, headers, c.body ?? "");
        // Right tokens from one address that never sends a wrong one; the rest from fresh ones.
        const from = c.auth === "right" ? "127.0.0.1" : freshClientAddress();

        const answer = await send(fuzz.server.url, bytes, { from });

        const what = `${method} ${target.slice(0, 200)}`;
        const status = expectSoundAnswer(answer, what, { head: method === "HEAD" });
        await fuzz.expectWrittenOnlyIfAccepted(`${what} (${status})`, status < 300);
      }),
      fuzzOptions(400, 0x7c51),
    );
    await expectAlive(fuzz.server.url);
  });
});
