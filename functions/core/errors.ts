/**
 * Domain errors. They carry no HTTP status: the HTTP adapter maps them to responses
 * (functions/adapters/http-errors.ts), exposing details only for client errors.
 */
export class TocsinError extends Error {
  // Spelled out in each class: bundles are minified, and class names with them.
  override name = "TocsinError";
}

/** The input does not follow its schema; `field` names the offending path. */
export class InvalidInputError extends TocsinError {
  override name = "InvalidInputError";

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `${field}: ${message}` : message);
  }
}

/** A query parameter (filter, page size, cursor) is missing or malformed. */
export class InvalidParameterError extends InvalidInputError {
  override name = "InvalidParameterError";
}

/** The configuration file is unusable; the message names the field. */
export class InvalidConfigError extends TocsinError {
  override name = "InvalidConfigError";
}

/** No incident with that id. */
export class IncidentNotFoundError extends TocsinError {
  override name = "IncidentNotFoundError";

  constructor(readonly incidentId: string) {
    super(`no incident with id ${incidentId}`);
  }
}

/**
 * A state change lost a race or is not allowed from the current state.
 * `currentStatus` is what the store holds now, so callers can say what happened instead.
 */
export class IncidentConflictError extends TocsinError {
  override name = "IncidentConflictError";

  constructor(
    readonly incidentId: string,
    readonly currentStatus: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A dependency failed, timed out or throttled; retrying later is safe (the HTTP edge answers
 * 503 with Retry-After).
 */
export class DependencyUnavailableError extends TocsinError {
  override name = "DependencyUnavailableError";
}

/** Storage (DynamoDB) failed or throttled. */
export class StoreUnavailableError extends DependencyUnavailableError {
  override name = "StoreUnavailableError";
}

/** The escalation engine (Step Functions) or a secret store could not be reached. */
export class ServiceUnavailableError extends DependencyUnavailableError {
  override name = "ServiceUnavailableError";
}
