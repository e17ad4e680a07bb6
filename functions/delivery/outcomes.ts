/** The timeline detail of a notification skipped for want of a token, key or topic. */
export const NO_CREDENTIALS = "not delivered: no credentials";

/** `Name: message` of anything thrown, for a timeline detail. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
