import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "aws-lambda";
import { MAX_BODY_BYTES } from "../adapters/http/body.js";
import type { HttpEvent, HttpResult } from "../adapters/http/types.js";

export type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export interface LocalRoute {
  /** An API Gateway route key such as `GET /incidents/{id}`. */
  routeKey: string;
  handler: LambdaHttpHandler;
}

interface CompiledRoute extends LocalRoute {
  method: string;
  pattern: RegExp;
  params: string[];
}

function compile(route: LocalRoute): CompiledRoute {
  const [method, path] = route.routeKey.split(" ") as [string, string];
  const params: string[] = [];
  const pattern = path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      params.push(param[1]!);
      return "([^/]+)";
    })
    .join("/");
  return { ...route, method, pattern: new RegExp(`^${pattern}$`), params };
}

/** What a Lambda gets as its context; the local server has no deadline of its own. */
function localContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: "tocsin-local",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:tocsin-local",
    memoryLimitInMB: "1024",
    logGroupName: "local",
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    // Keep a little past the limit so the handler, not the bridge, gives the 413.
    if (size > MAX_BODY_BYTES * 2) return "too_large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The request target as a URL, or null when it is none: origin-form (`/path?query`, RFC 9112
 * section 3.2.1) is read against a fixed base, so that `//x` stays a path rather than a
 * host; absolute-form (`http://host/path`, which a server must accept, section 3.2.2) gives
 * its path and query. Anything else (`*`, an authority, an invalid URL) is a 400.
 */
export function requestTarget(target: string | undefined): URL | null {
  const raw = target ?? "/";
  try {
    if (raw.startsWith("/")) return new URL(`http://localhost${raw}`);
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/** A path segment percent-decoded as API Gateway does, or null when the encoding is malformed. */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

const problem = (statusCode: number, error: string, message: string, close = false) => ({
  statusCode,
  headers: {
    "content-type": "application/json; charset=utf-8",
    ...(close ? { connection: "close" } : {}),
  },
  body: JSON.stringify({ error, message }),
});

/** Where the bridge reports what it could not hand to a handler (a structured logger). */
export interface BridgeLog {
  error(message: string, fields: Record<string, unknown>): void;
}

/**
 * Turns a Node request into the API Gateway HTTP API (v2) event that Lambda would get,
 * calls the same handler, and writes its result back: no second implementation of any route.
 * Nothing a client sends can make it throw: a malformed target or path is a 400, a body
 * that breaks off is dropped with its connection, and anything unexpected is logged and
 * answered 500 (or the connection closed, once an answer has begun).
 */
export function apiGatewayBridge(routes: readonly LocalRoute[], log: BridgeLog) {
  const compiled = routes.map(compile);
  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const send = (result: HttpResult) => {
      if (response.headersSent || response.destroyed) return;
      response.writeHead(result.statusCode ?? 200, {
        ...(result.headers as Record<string, string>),
      });
      response.end(result.body ?? "");
    };
    const url = requestTarget(request.url);
    if (!url) {
      send(problem(400, "bad_request", "the request target is not a valid URL path", true));
      return;
    }
    if (request.httpVersionMinor >= 1 && !request.headers.host) {
      send(problem(400, "bad_request", "an HTTP/1.1 request needs a Host header", true));
      return;
    }
    const method = request.method ?? "GET";
    let match: { route: CompiledRoute; values: string[] } | undefined;
    for (const route of compiled) {
      const found = route.pattern.exec(url.pathname);
      if (found && route.method === method) match = { route, values: found.slice(1) };
    }
    if (!match) {
      const known = compiled.some((r) => r.pattern.test(url.pathname));
      send(
        known
          ? problem(405, "method_not_allowed", `${method} is not allowed here`)
          : problem(404, "not_found", `no route for ${url.pathname}`),
      );
      return;
    }
    const values = match.values.map(decodeSegment);
    if (values.some((value) => value === null)) {
      send(problem(400, "bad_request", "the path holds malformed percent-encoding"));
      return;
    }
    let body: Buffer | "too_large";
    try {
      body = await readBody(request);
    } catch {
      // The client went away or broke its body off (a bad chunk): nobody is left to answer,
      // and Node's parser has already answered a malformed body (see hardened-server.ts).
      response.destroy();
      return;
    }
    if (body === "too_large") {
      send(problem(413, "payload_too_large", "the body is over the limit", true));
      request.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const requestId = randomUUID();
    const event: HttpEvent = {
      version: "2.0",
      routeKey: match.route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: match.route.params.length
        ? Object.fromEntries(match.route.params.map((name, i) => [name, values[i]!]))
        : undefined,
      body: body.length > 0 ? body.toString("base64") : undefined,
      isBase64Encoded: body.length > 0,
      requestContext: {
        accountId: "local",
        apiId: "local",
        domainName: headers.host ?? "localhost",
        domainPrefix: "local",
        http: {
          method,
          path: url.pathname,
          protocol: "HTTP/1.1",
          sourceIp: request.socket.remoteAddress ?? "",
          userAgent: headers["user-agent"] ?? "",
        },
        requestId,
        routeKey: match.route.routeKey,
        stage: "$default",
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
    };
    let result: HttpResult;
    try {
      result = await match.route.handler(event, localContext(requestId));
    } catch (error) {
      log.error("handler failed", {
        event: "local_handler_fault",
        route: match.route.routeKey,
        error,
      });
      result = problem(500, "internal", "internal error");
    }
    send(result);
  };
  return (request: IncomingMessage, response: ServerResponse): void => {
    // A write to a connection the client has closed reports an error: nothing to do.
    response.on("error", () => undefined);
    request.on("error", () => undefined);
    serve(request, response).catch((error: unknown) => {
      log.error("request failed in the local bridge", { event: "local_bridge_fault", error });
      if (response.headersSent) response.destroy();
      else {
        response.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        response.end(JSON.stringify({ error: "internal", message: "internal error" }));
      }
    });
  };
}
