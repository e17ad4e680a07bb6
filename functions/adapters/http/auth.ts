import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./http-errors.js";
import type { HttpEvent, HttpMiddleware } from "./types.js";

/** Where a secret comes from: a value at hand locally, a cached Secrets Manager read on AWS. */
export type SecretSource = () => string | Promise<string>;

/** Compares secrets in constant time (hashing first so lengths leak nothing either). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token in `Authorization: Bearer <token>` or the password of Basic auth, if any. */
export function presentedToken(event: HttpEvent): string | null {
  const header = event.headers.authorization ?? "";
  const [scheme, value] = header.split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === "bearer") return value;
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

/** A 401 with the JSON body and the challenge every refusal of a credential carries. */
export const unauthorized = (message: string) =>
  new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="tocsin"' });

/** Requires the token as a Bearer token or as Basic auth's password. */
export function requireToken(token: SecretSource): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const given = presentedToken(event);
      if (given === null) throw unauthorized("send the token as 'Authorization: Bearer <token>'");
      if (!secretsEqual(given, await token())) throw unauthorized("the token is not valid");
    },
  };
}
