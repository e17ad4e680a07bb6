/**
 * Fuzz: what only a raw socket can send. Malformed request lines and heads (absolute URLs with
 * impossible ports, odd versions, smuggling-shaped headers, plain garbage), chunked bodies with
 * broken framing, and clients that vanish mid-request. Whatever arrives, an answer is below
 * 500, nothing is written unless a delivery was accepted, and the server answers afterwards.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { fixture } from "../../support/fixtures.js";
import type { RawAnswer } from "../../support/raw-http.js";
import { rawRequest } from "../../support/raw-http.js";
import {
  expectAlive,
  expectSoundAnswer,
  freshClientAddress,
  fuzzOptions,
  hostile,
  requestBytes,
  useFuzzServer,
} from "./fuzz-server.js";

const ALERT = JSON.stringify(fixture("alertmanager-0.25-firing-warning.json"));

/** A token of a request line: mostly plausible, sometimes not. */
const method = fc.constantFrom(
  "GET",
  "POST",
  "HEAD",
  "OPTIONS",
  "CONNECT",
  "get",
  "G ET",
  "",
  "X".repeat(300),
);
const version = fc.constantFrom(
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/0.9",
  "HTTP/2",
  "HTTP/1.1x",
  "http/1.1",
  "",
  "HTTP/1.1 extra",
);
const target = fc.oneof(
  fc.constantFrom(
    "/healthz",
    "/incidents/%ZZ",
    "*",
    "a.example:443",
    "",
    "/",
    "//",
    "/%",
    "/\u00e9",
  ),
  fc
    .record({
      scheme: fc.constantFrom("http", "https", "ftp", "HTTP", ""),
      host: fc.oneof(
        fc.constantFrom("a", "127.0.0.1", "[::1]", "[::1", "", "a..b"),
        fc.string({ maxLength: 10 }),
      ),
      port: fc.oneof(
        fc.constant(""),
        fc.integer({ min: -5, max: 200_000 }).map((p) => `:${p}`),
      ),
      path: fc.constantFrom("/", "/healthz", "/incidents", "", "?x=%ZZ"),
    })
    .map(({ scheme, host, port, path }) => `${scheme}://${host}${port}${path}`),
);
const HEADER_LINES = [
  "Host: 127.0.0.1",
  "Host: 127.0.0.1\r\nHost: evil",
  "Content-Length: 5\r\nContent-Length: 6",
  "Content-Length: -1",
  "Content-Length: 99999999999999999999",
  "Transfer-Encoding: chunked\r\nContent-Length: 3",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: identity",
  " folded: header",
  "X: \u0000",
  "Bad Name: x",
  ": empty-name",
  "Connection: upgrade\r\nUpgrade: websocket",
  "Expect: 100-continue",
];
const head = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(method, target, version, fc.subarray(HEADER_LINES, { maxLength: 3 }))
      .map(
        ([m, t, v, lines]) =>
          `${m} ${t} ${v}\r\n${["Connection: close", ...lines].join("\r\n")}\r\n\r\n`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 200 })
      .map((bytes) => Buffer.concat([Buffer.from(bytes), Buffer.from("\r\n\r\n")])),
  },
  { weight: 1, arbitrary: hostile.map((text) => `${text}\r\n\r\n`) },
  {
    // Pipelined: a sound request, then garbage on the same connection.
    weight: 1,
    arbitrary: hostile.map((text) => `GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n${text}\r\n\r\n`),
  },
);

/** A chunk-size line: right, or wrong in one of the ways parsers have got wrong. */
const chunkSize = (size: number) =>
  fc.constantFrom(
    size.toString(16),
    size.toString(16),
    size.toString(16).toUpperCase(),
    `000${size.toString(16)}`,
    `${size.toString(16)};ext=1`,
    `${size.toString(16)} `,
    `-${size.toString(16)}`,
    `${(size + 1).toString(16)}`,
    "zz",
    "ffffffffffffffffffff",
    "",
  );

describe("fuzz: raw sockets", { timeout: 60_000 }, () => {
  const fuzz = useFuzzServer();

  /** Checks an answer if there was one, and that only an accepted delivery wrote. */
  const judge = async (answer: RawAnswer, what: string, head = false) => {
    const status = answer.status === null ? null : expectSoundAnswer(answer, what, { head });
    await fuzz.expectWrittenOnlyIfAccepted(`${what} (${status})`, status === 202);
  };

  it("malformed request lines and heads: a sound answer or none, and nothing written", async () => {
    await fc.assert(
      fc.asyncProperty(head, async (bytes) => {
        // A head that promises a body makes the server wait for it: stop listening soon.
        const answer = await rawRequest(fuzz.server.url, bytes, {
          idleMs: 500,
          from: freshClientAddress(),
        });
        const text = bytes.toString();
        await judge(answer, JSON.stringify(text).slice(0, 300), text.startsWith("HEAD "));
      }),
      fuzzOptions(300, 0x4ead),
    );
    await expectAlive(fuzz.server.url);
  });

  it("chunked bodies with broken framing: 202 when whole, else refused or dropped, and nothing written", async () => {
    const framing = fc
      .array(fc.nat({ max: ALERT.length }), { minLength: 1, maxLength: 5 })
      .chain((cuts) => {
        const points = [...new Set([0, ...cuts, ALERT.length])].sort((a, b) => a - b);
        const pieces = points.slice(1).map((end, i) => ALERT.slice(points[i], end));
        return fc.tuple(
          fc.tuple(
            ...pieces.map((piece) =>
              chunkSize(Buffer.byteLength(piece)).map((line) => [line, piece] as const),
            ),
          ),
          fc.constantFrom("0\r\n\r\n", "0\r\nX-Trailer: a\r\n\r\n", "0\r\n", ""),
        );
      });
    await fc.assert(
      fc.asyncProperty(framing, async ([chunks, last]) => {
        const body = `${chunks.map(([line, piece]) => `${line}\r\n${piece}\r\n`).join("")}${last}`;
        // Without its last chunk the body never ends: the client gives up and goes.
        const whole = last.endsWith("\r\n\r\n");
        const bytes = requestBytes(
          "POST",
          "/webhooks/alertmanager",
          [
            ["authorization", `Bearer ${fuzz.server.webhookToken}`],
            ["content-type", "application/json"],
            ["transfer-encoding", "chunked"],
            // A whole body is answered, then the connection closed: the client waits for that
            // (a 202 that took longer than an idle guess would write after the next check).
            ...(whole ? [["connection", "close"] as [string, string]] : []),
          ],
          body,
        );
        const answer = await rawRequest(fuzz.server.url, bytes, whole ? {} : { hangUp: true });
        await judge(answer, JSON.stringify(body).slice(0, 300));
      }),
      fuzzOptions(200, 0xc4c4),
    );
    await expectAlive(fuzz.server.url);
  });

  it("clients that vanish mid-request: nothing written, the server still answers", async () => {
    const whole = requestBytes(
      "POST",
      "/webhooks/alertmanager",
      [
        ["authorization", `Bearer ${fuzz.server.webhookToken}`],
        ["content-type", "application/json"],
      ],
      ALERT,
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: whole.length - 1 }), async (cut) => {
        const answer = await rawRequest(fuzz.server.url, whole.subarray(0, cut), { hangUp: true });
        await judge(answer, `the first ${cut} of ${whole.length} bytes`);
      }),
      fuzzOptions(200, 0xd15c),
    );
    await expectAlive(fuzz.server.url);
  });
});
