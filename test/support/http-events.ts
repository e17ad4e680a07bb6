import type { Context } from "aws-lambda";
import type { HttpEvent } from "../../functions/adapters/http/types.js";

/** An API Gateway HTTP API (v2) event as Lambda receives it. */
export function httpEvent(options: {
  method?: string;
  routeKey: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
}): HttpEvent {
  const method = options.method ?? options.routeKey.split(" ")[0]!;
  const path = options.path ?? options.routeKey.split(" ")[1]!;
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString("base64")
        : options.body;
  return {
    version: "2.0",
    routeKey: options.routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: options.headers ?? {},
    queryStringParameters: options.query,
    pathParameters: options.pathParameters,
    body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example",
      domainPrefix: "api",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.9",
        userAgent: "Alertmanager/0.25.0",
      },
      requestId: "req",
      routeKey: options.routeKey,
      stage: "$default",
      time: "30/Nov/2026:09:00:00 +0000",
      timeEpoch: 1_795_942_800_000,
    },
  };
}

export const lambdaContext = {
  awsRequestId: "req",
  functionName: "test",
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;
