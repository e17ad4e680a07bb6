import type { MiddlewareObj } from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";

/** API Gateway HTTP API (payload v2) event, plus what our middleware adds to it. */
export interface HttpEvent extends APIGatewayProxyEventV2 {
  /** The body as bytes were received (base64 undone), for signatures. */
  rawBody?: string;
  /** The JSON body, once parsed. */
  jsonBody?: unknown;
  /** The incidents the request read or changed, set by the handler for the request log. */
  incidentIds?: string[];
}

export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context>;

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}
