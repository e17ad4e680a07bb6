import { InvalidParameterError } from "./errors.js";

/**
 * Incident ids tocsin makes are UUIDs; an id is well formed when it is 1 to 128 letters,
 * digits, `.`, `_`, `:` or `-`, starting with a letter or digit. Anything else (a 2 KB
 * string, markup, a path) names no incident and is refused before it reaches storage,
 * whose keys stop at 2,048 bytes. Every edge that takes an id from outside checks it here:
 * the read API's path, the history page's `?incident=`, a Slack action's value.
 */
export const MAX_INCIDENT_ID_LENGTH = 128;
const INCIDENT_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_INCIDENT_ID_LENGTH - 1}}$`);

export function isIncidentId(value: unknown): value is string {
  return typeof value === "string" && INCIDENT_ID.test(value);
}

/** `value` when it is a well-formed incident id; otherwise an InvalidParameterError naming `field`. */
export function incidentIdParameter(field: string, value: string | undefined): string {
  if (isIncidentId(value)) return value;
  throw new InvalidParameterError(
    field,
    `is not an incident id (1 to ${MAX_INCIDENT_ID_LENGTH} letters, digits, '.', '_', ':' or '-')`,
  );
}
