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
 * Turns a Node request into the API Gateway HTTP API (v2) event that Lambda would get,
 * calls the same handler, and writes its result back: no second implementation of any route.
 */
export function apiGatewayBridge(routes: readonly LocalRoute[]) {
  const compiled = routes.map(compile);
  return async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    const send = (result: HttpResult) => {
      response.writeHead(result.statusCode ?? 200, {
        ...(result.headers as Record<string, string>),
      });
      response.end(result.body ?? "");
    };
    let match: { route: CompiledRoute; values: string[] } | undefined;
    for (const route of compiled) {
      const found = route.pattern.exec(url.pathname);
      if (found && route.method === method) match = { route, values: found.slice(1) };
    }
    if (!match) {
      const known = compiled.some((r) => r.pattern.test(url.pathname));
      send({
        statusCode: known ? 405 : 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          known
            ? { error: "method_not_allowed", message: `${method} is not allowed here` }
            : { error: "not_found", message: `no route for ${url.pathname}` },
        ),
      });
      return;
    }
    const body = await readBody(request);
    if (body === "too_large") {
      send({
        statusCode: 413,
        headers: { "content-type": "application/json", connection: "close" },
        body: JSON.stringify({ error: "payload_too_large", message: "the body is over the limit" }),
      });
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
        ? Object.fromEntries(
            match.route.params.map((name, i) => [name, decodeURIComponent(match.values[i]!)]),
          )
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
    try {
      send(await match.route.handler(event, localContext(requestId)));
    } catch {
      send({
        statusCode: 500,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ error: "internal", message: "internal error" }),
      });
    }
  };
}
