import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { type FunctionName, ROUTE_KEYS } from "../functions/entry/route-keys.js";
import { acknowledge } from "./nag.js";

const HTTP_METHODS = new Set<string>(Object.values(HttpMethod));

/** "GET /incidents/{id}" → method and path, refusing what API Gateway would refuse later. */
export function parseRouteKey(routeKey: string): { method: HttpMethod; path: string } {
  const [method, path, ...rest] = routeKey.split(" ");
  if (!method || !HTTP_METHODS.has(method) || !path?.startsWith("/") || rest.length > 0) {
    throw new Error(`route key "${routeKey}" is not "<METHOD> /<path>"`);
  }
  return { method: method as HttpMethod, path };
}

/**
 * One JSON object per request. `$context` holds no headers and no body, so neither a token
 * nor a payload can reach these logs; nor the path, which for /a/{token} is a credential
 * (the route key says which route, the functions' own logs which incident).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  routeKey: "$context.routeKey",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integrationStatus",
  integrationLatency: "$context.integrationLatency",
  integrationError: "$context.integrationErrorMessage",
  error: "$context.error.message",
} as const;

/**
 * Why no route has an API Gateway authorizer: each function authenticates its callers
 * itself, with what the caller can send. Slack and Grafana sign the raw body, which only
 * the function sees; a Lambda authorizer would add a second cold start to every webhook.
 */
const AUTHORISED_IN_THE_FUNCTION: Record<FunctionName, string> = {
  alertmanagerWebhook:
    "Authorised in the Lambda: requireToken checks the webhook token (Bearer, or Basic auth " +
    "password as Alertmanager sends it) against Secrets Manager in constant time.",
  grafanaWebhook:
    "Authorised in the Lambda: requireToken checks the webhook token (Bearer or Basic), and " +
    "with grafanaHmac the HMAC-SHA256 of the raw body, which no API Gateway authorizer sees.",
  readApi:
    "Authorised in the Lambda: the API token (Bearer) or the signed session cookie POST " +
    "/login sets; GET / without either is the sign-in form. /login (checks the token), " +
    "/logout (clears the cookie) and /healthz (reveals nothing) are public by design.",
  slackInteractions:
    "Authorised in the Lambda: Slack's v0 request signature (HMAC-SHA256 of timestamp and " +
    "raw body with the signing secret), which only the function can compute.",
  pagerDutyWebhook:
    "Authorised in the Lambda: PagerDuty's v1 webhook signature (HMAC-SHA256 of the raw " +
    "body with each subscription secret), which only the function can compute.",
  ackLinks:
    "Authorised in the Lambda: the path's token is the credential, an HMAC-SHA256 over the " +
    "incident, person, action and expiry with the AckLinkKey secret; GET only shows, POST " +
    "acts once per link (replay records).",
};

/**
 * The HTTP API: every route of ROUTE_KEYS to the function named for it, deployed to a
 * throttled $default stage that writes JSON access logs. Created in `scope` itself, so the
 * API's logical ids (and so its URL) do not depend on this file.
 */
export function addHttpApi(
  scope: Construct,
  functions: Record<FunctionName, IFunction>,
): { api: HttpApi; stage: HttpStage } {
  const api = new HttpApi(scope, "Api", {
    description: "tocsin: webhooks in, incidents out",
    // The stage is declared below so that it can carry throttling and access logs.
    createDefaultStage: false,
  });
  const accessLogs = new LogGroup(scope, "ApiAccessLogs", {
    retention: RetentionDays.ONE_MONTH,
  });
  const stage = new HttpStage(scope, "DefaultStage", {
    httpApi: api,
    stageName: "$default",
    autoDeploy: true,
    // Caps what a misbehaving sender (or a stolen token) can cost in Lambda and DynamoDB.
    throttle: { burstLimit: 200, rateLimit: 100 },
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
    },
  });
  for (const [name, routeKeys] of Object.entries(ROUTE_KEYS) as [
    FunctionName,
    readonly string[],
  ][]) {
    const integration = new HttpLambdaIntegration(`${name}Integration`, functions[name], {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    for (const routeKey of routeKeys) {
      const { method, path } = parseRouteKey(routeKey);
      for (const route of api.addRoutes({ path, methods: [method], integration })) {
        acknowledge(route, { "AwsSolutions-APIG4": AUTHORISED_IN_THE_FUNCTION[name] });
      }
    }
  }
  return { api, stage };
}
