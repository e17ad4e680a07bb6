import type { Logger } from "@aws-lambda-powertools/logger";
import {
  DependencyUnavailableError,
  IncidentConflictError,
  IncidentNotFoundError,
  InvalidInputError,
  InvalidParameterError,
  StoreUnavailableError,
} from "../../core/errors.js";
import { type HttpMiddleware, type HttpResult, json } from "./types.js";

/** A failure at the HTTP edge (auth, size, syntax), with the status it answers. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** What a 503 asks of the sender: every write is repeatable, so a retry finishes the job. */
export const RETRY_LATER = { "retry-after": "5" } as const;

/** A 503's message: which kind of dependency failed, never its details. */
export function unavailableMessage(error: DependencyUnavailableError): string {
  return error instanceof StoreUnavailableError
    ? "storage is unavailable; retry later"
    : "a service tocsin depends on is unavailable; retry later";
}

function toResponse(error: unknown): HttpResult {
  if (error instanceof HttpError) {
    return json(error.statusCode, { error: error.code, message: error.message }, error.headers);
  }
  if (error instanceof InvalidParameterError) {
    return json(400, { error: "invalid_parameter", message: error.message, field: error.field });
  }
  if (error instanceof InvalidInputError) {
    return json(422, { error: "invalid_payload", message: error.message, field: error.field });
  }
  if (error instanceof IncidentNotFoundError) {
    return json(404, { error: "not_found", message: error.message });
  }
  if (error instanceof IncidentConflictError) {
    return json(409, { error: "conflict", message: error.message, status: error.currentStatus });
  }
  if (error instanceof DependencyUnavailableError) {
    // The details stay in the log: a 5xx says only what the caller should do.
    return json(503, { error: "unavailable", message: unavailableMessage(error) }, RETRY_LATER);
  }
  return json(500, { error: "internal", message: "internal error" });
}

/**
 * Maps every error to a JSON response, like middy's http-error-handler: the message is
 * exposed only for client errors; server errors are logged with their cause.
 */
export function errorResponses(logger: Logger): HttpMiddleware {
  return {
    onError: async (request) => {
      const response = toResponse(request.error);
      const status = response.statusCode ?? 500;
      const fields = { status, path: request.event.rawPath, error: request.error };
      if (status >= 500) logger.error("request failed", fields);
      else
        logger.info("request refused", {
          status,
          path: request.event.rawPath,
          reason: request.error?.message,
        });
      request.response = response;
    },
  };
}
