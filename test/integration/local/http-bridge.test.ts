/**
 * The local server's edge: the bridge from Node's HTTP to API Gateway events, and the server
 * it runs in, against clients that send what no browser would.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { json } from "../../../functions/adapters/http/types.js";
import { hardenedServer } from "../../../functions/local/hardened-server.js";
import { apiGatewayBridge, requestTarget } from "../../../functions/local/http-bridge.js";
import { rawJson, rawRequest } from "../../support/raw-http.js";

describe("requestTarget", () => {
  it.each([
    ["/incidents?status=triggered", "/incidents", "?status=triggered"],
    ["//incidents", "//incidents", ""], // a path, not a host
    ["http://a:80/healthz?x=1", "/healthz", "?x=1"], // absolute-form (RFC 9112 3.2.2)
  ])("%s is path %s and query %s", (target, path, search) => {
    const url = requestTarget(target)!;
    expect(url.pathname).toBe(path);
    expect(url.search).toBe(search);
  });

  it.each(["http://a:99999/", "*", "a.example:443", "ftp://a/", "http://[::1/"])(
    "%s is no target",
    (target) => {
      expect(requestTarget(target)).toBeNull();
    },
  );
});

describe("the local server's edge", () => {
  let server: Server | undefined;
  const errors: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const log = {
    error: (message: string, fields: Record<string, unknown>) => errors.push({ message, fields }),
  };

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    errors.length = 0;
  });

  const listen = async (options: Parameters<typeof hardenedServer>[1] = {}) => {
    server = hardenedServer(
      apiGatewayBridge(
        [
          { routeKey: "GET /healthz", handler: async () => json(200, { status: "ok" }) },
          {
            routeKey: "GET /things/{id}",
            handler: async (event) => json(200, { id: event.pathParameters?.id }),
          },
          {
            routeKey: "POST /boom",
            handler: async () => {
              throw new Error("a bug in a handler");
            },
          },
        ],
        log,
      ),
      options,
    );
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const get = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

  it("decodes path parameters as API Gateway does, and refuses malformed encoding with 400", async () => {
    const url = await listen();
    const good = await rawRequest(url, get("/things/a%20b%2Fc"));
    expect(rawJson(good)).toEqual({ id: "a b/c" });
    for (const path of ["/things/%ZZ", "/things/%E0%A4%A", "/things/%C0%AF"]) {
      const answer = await rawRequest(url, get(path));
      expect(answer.status, path).toBe(400);
      expect(rawJson(answer), path).toMatchObject({ error: "bad_request" });
    }
  });

  it.each([
    ["a malformed request line", 400, "GET /healthz HTTP/9\r\n\r\n"],
    ["a request line that is not HTTP", 400, "\u0000\u0001\u0002 hello\r\n\r\n"],
    ["a header without a colon", 400, "GET /healthz HTTP/1.1\r\nHost: a\r\nnope\r\n\r\n"],
    ["HTTP/1.1 without Host", 400, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"],
    [
      "headers over Node's 16 KB",
      431,
      `GET /healthz HTTP/1.1\r\nHost: a\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
    ],
  ])("%s: a JSON %i, and the server answers the next request", async (_, status, bytes) => {
    const url = await listen();
    const answer = await rawRequest(url, bytes);
    expect(answer.status, answer.text).toBe(status);
    expect(rawJson(answer)).toMatchObject({ error: "bad_request", message: expect.any(String) });
    expect((await rawRequest(url, get("/healthz"))).status).toBe(200);
  });

  it("answers an Expect it cannot meet with a JSON 417, and 100-continue as usual", async () => {
    const url = await listen();
    const odd = await rawRequest(
      url,
      "GET /healthz HTTP/1.1\r\nHost: a\r\nExpect: x\r\nConnection: close\r\n\r\n",
    );
    expect(odd.status, odd.text).toBe(417);
    expect(rawJson(odd)).toMatchObject({
      error: "expectation_failed",
      message: expect.any(String),
    });
    const usual = await rawRequest(
      url,
      "GET /healthz HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    expect(usual.text).toContain("HTTP/1.1 100 Continue");
    expect(
      rawJson({ status: 200, text: usual.text.slice(usual.text.indexOf("HTTP/1.1 200")) }),
    ).toEqual({
      status: "ok",
    });
  });

  it("answers a client that sends its headers too slowly with 408 and closes it", async () => {
    const url = await listen({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    // Headers begun, never finished: the answer comes from the timeout, not from the client.
    const answer = await rawRequest(url, "GET /healthz HTTP/1.1\r\nHost: a\r\n", { idleMs: 5_000 });
    expect(answer.status, answer.text).toBe(408);
    expect(rawJson(answer)).toMatchObject({ error: "bad_request" });
  });

  it("logs an error of the listening server (a failed accept) and keeps serving", async () => {
    const url = await listen({ log });
    const accept = Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" });
    server!.emit("error", accept);
    expect(errors).toMatchObject([{ fields: { event: "local_server_error", error: accept } }]);
    expect((await rawRequest(url, get("/healthz"))).status).toBe(200);
  });

  it("answers a handler's failure with a JSON 500, logs it, and keeps serving", async () => {
    const url = await listen();
    const answer = await rawRequest(
      url,
      "POST /boom HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    expect(answer.status).toBe(500);
    expect(rawJson(answer)).toEqual({ error: "internal", message: "internal error" });
    expect(errors).toMatchObject([{ fields: { error: { message: "a bug in a handler" } } }]);
    expect((await rawRequest(url, get("/healthz"))).status).toBe(200);
  });

  it("drops a body the client breaks off, without an error, and keeps serving", async () => {
    const url = await listen();
    await rawRequest(url, "POST /boom HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{", {
      hangUp: true,
    });
    expect((await rawRequest(url, get("/healthz"))).status).toBe(200);
    expect(errors).toEqual([]);
  });
});
