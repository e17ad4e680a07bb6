import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";

/** X-Ray annotations: indexed, so `annotation.incidentId = "…"` finds an incident's traces. */
export type Annotations = Record<string, string | number | boolean | undefined>;

/**
 * X-Ray tracing on Lambda through Powertools Tracer: the invocation's subsegment (with
 * the ColdStart and Service annotations, and any error), the AWS SDK calls of the clients
 * given to `tracer.captureAWSv3Client`, and outgoing HTTP calls (Slack, PagerDuty). Off
 * outside Lambda (no AWS_EXECUTION_ENV), so `npm start` and the tests trace nothing.
 */
export function newTracer(): Tracer {
  // No response in the traces: a response can carry incident data, as requests do.
  return new Tracer({ serviceName: "tocsin" });
}

/**
 * Wraps a Lambda handler in a traced subsegment that carries `annotate`'s annotations,
 * computed from the event and the response (undefined when the handler threw).
 */
export function traced<E, R>(
  tracer: Tracer,
  handler: (event: E, context: Context) => Promise<R>,
  annotate: (event: E, response: R | undefined) => Annotations,
): (event: E, context: Context) => Promise<R> {
  const put = (annotations: Annotations) => {
    for (const [key, value] of Object.entries(annotations)) {
      if (value !== undefined) tracer.putAnnotation(key, value);
    }
  };
  // middy runs `after` and `onError` in reverse order of use: these run while the
  // handler's subsegment, opened by captureLambdaHandler, is still the current one.
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use({
      after: async (request) => put(annotate(request.event, request.response)),
      onError: async (request) => put(annotate(request.event, undefined)),
    });
}

/** What an HTTP function's trace says: the route and the status it answered. */
export function httpAnnotations(
  event: { routeKey?: string },
  response: { statusCode?: number } | undefined,
): Annotations {
  return { route: event.routeKey, status: response?.statusCode };
}
