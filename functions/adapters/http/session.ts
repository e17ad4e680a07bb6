import { createHmac } from "node:crypto";
import { presentedToken, type SecretSource, secretsEqual } from "./auth.js";
import { HttpError } from "./http-errors.js";
import { clientOf, type TokenThrottle, tooManyWrongTokens } from "./token-throttle.js";
import type { HttpEvent, HttpMiddleware } from "./types.js";

/**
 * The history page's sign-in: the API token is entered once and the browser keeps a cookie
 * that proves it without holding it, `v1.<expiry>.<HMAC-SHA256 keyed by the token>`. No
 * server state: a cookie is checked by recomputing its MAC, so changing the token signs
 * every browser out, and a stolen cookie never reveals the token.
 */
export const SESSION_COOKIE = "tocsin_session";
export const SESSION_SECONDS = 12 * 60 * 60;

function mac(token: string, expires: number): string {
  return createHmac("sha256", token).update(`tocsin-session:v1:${expires}`).digest("base64url");
}

/** The cookie value for a session that ends `SESSION_SECONDS` after `now`. */
export function sessionValue(token: string, now: Date): string {
  const expires = Math.floor(now.getTime() / 1000) + SESSION_SECONDS;
  return `v1.${expires}.${mac(token, expires)}`;
}

/** True for a cookie value made with `token` that has not expired at `now`. */
export function sessionValid(value: string, token: string, now: Date): boolean {
  const match = /^v1\.(\d{1,12})\.([\w-]{43})$/.exec(value);
  if (!match) return false;
  const expires = Number(match[1]);
  // Compared even when expired, so timing says nothing about which check failed.
  const authentic = secretsEqual(match[2]!, mac(token, expires));
  return authentic && expires > now.getTime() / 1000;
}

/** The value of cookie `name` in the request's Cookie header(s), if any. */
export function cookieValue(event: HttpEvent, name: string): string | undefined {
  // API Gateway v2 gives cookies in `cookies`; a plain header elsewhere.
  const pairs = [...(event.cookies ?? []), ...(event.headers.cookie ?? "").split(";")];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** Requests to these hosts come over plain HTTP on the developer's machine. */
export function isLocalHost(event: HttpEvent): boolean {
  const host = (event.headers.host ?? event.requestContext.domainName ?? "").toLowerCase();
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return (
    name === "localhost" || name.endsWith(".localhost") || /^127\./.test(name) || name === "[::1]"
  );
}

function cookie(event: HttpEvent, value: string, maxAge: number): string {
  const secure = isLocalHost(event) ? "" : "; Secure";
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Strict${secure}`;
}

/** Set-Cookie for a new session. Secure everywhere but localhost, where there is no TLS. */
export function sessionCookie(event: HttpEvent, token: string, now: Date): string {
  return cookie(event, sessionValue(token, now), SESSION_SECONDS);
}

/** Set-Cookie that ends the session. */
export function clearedSessionCookie(event: HttpEvent): string {
  return cookie(event, "", 0);
}

/**
 * Checks a token a client presents, unless `throttle` says it must wait first (then a 429
 * HttpError, the token unchecked); counts a wrong one against it, and forgets it on a right one.
 */
export async function checkPresentedToken(
  event: HttpEvent,
  given: string,
  token: SecretSource,
  now: Date,
  throttle: TokenThrottle | undefined,
): Promise<boolean> {
  const client = clientOf(event);
  const wait = throttle?.waitSeconds(client, now) ?? 0;
  if (wait > 0) throw tooManyWrongTokens(wait);
  const right = secretsEqual(given, await token());
  if (right) throttle?.succeeded(client);
  else throttle?.failed(client, now);
  return right;
}

/**
 * How a request proved itself: the token itself, a session cookie, or not at all. A
 * presented token goes through `throttle` (checkPresentedToken); a session cookie never does.
 */
export async function authentication(
  event: HttpEvent,
  token: SecretSource,
  now: Date,
  throttle?: TokenThrottle,
): Promise<"token" | "session" | "wrong_token" | null> {
  const given = presentedToken(event);
  if (given !== null) {
    return (await checkPresentedToken(event, given, token, now, throttle))
      ? "token"
      : "wrong_token";
  }
  const session = cookieValue(event, SESSION_COOKIE);
  if (session && sessionValid(session, await token(), now)) return "session";
  return null;
}

/** Like requireToken, but a signed-in browser's cookie will do as well as the header. */
export function requireTokenOrSession(
  token: SecretSource,
  now: () => Date,
  throttle?: TokenThrottle,
): HttpMiddleware {
  return {
    before: async ({ event }) => {
      const outcome = await authentication(event, token, now(), throttle);
      if (outcome === "token" || outcome === "session") return;
      throw new HttpError(
        401,
        "unauthorized",
        outcome === "wrong_token"
          ? "the token is not valid"
          : "send the token as 'Authorization: Bearer <token>', or sign in at /",
        { "www-authenticate": 'Bearer realm="tocsin"' },
      );
    },
  };
}
