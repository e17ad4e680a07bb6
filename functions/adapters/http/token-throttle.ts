import { isIPv6 } from "node:net";
import { HttpError } from "./http-errors.js";
import type { HttpEvent } from "./types.js";

export interface ThrottleSettings {
  /** Wrong tokens a client may send before it must wait (typos, a stale bookmark). */
  freeFailures: number;
  /** The first wait; each further wrong token doubles it... */
  firstWaitMs: number;
  /** ...up to this. */
  longestWaitMs: number;
  /** A client without a wrong token for this long starts afresh. */
  forgetAfterMs: number;
  /** Clients remembered at most (the least recently failing are forgotten first). */
  maxClients: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  freeFailures: 5,
  firstWaitMs: 1_000,
  longestWaitMs: 15 * 60_000,
  forgetAfterMs: 24 * 60 * 60_000,
  maxClients: 10_000,
};

interface ClientRecord {
  failures: number;
  lastFailureMs: number;
  blockedUntilMs: number;
}

/**
 * Exponential back-off for wrong API tokens, per client address, in this process's memory.
 * A client may send `freeFailures` wrong tokens; after that each wrong token makes it wait
 * `firstWaitMs`, doubling up to `longestWaitMs`, and while it waits its token attempts are
 * answered 429 with Retry-After, unchecked (an attempt that was checked would tell a guesser
 * whether it guessed right, whatever the status). A right token resets its client, and so
 * does a day without wrong ones: a client gets about 110 guesses a day.
 *
 * Why this does not lock out the real user: the count is per address, so a guesser elsewhere
 * changes nothing for them; a browser already signed in (session cookie) is never throttled;
 * and a client that shares the guesser's address waits at most `longestWaitMs`. Addresses are
 * what the connection came from (API Gateway's sourceIp), never X-Forwarded-For, which the
 * client writes; IPv6 counts by /64, the block one host usually holds.
 */
export class TokenThrottle {
  private readonly clients = new Map<string, ClientRecord>();
  private readonly settings: ThrottleSettings;

  constructor(settings: Partial<ThrottleSettings> = {}) {
    this.settings = { ...DEFAULT_THROTTLE, ...settings };
  }

  /** Seconds `client` must still wait before a token of its is checked; 0 when none. */
  waitSeconds(client: string, now: Date): number {
    const record = this.current(client, now.getTime());
    const left = record ? record.blockedUntilMs - now.getTime() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** A wrong token from `client`, checked at `now`. */
  failed(client: string, now: Date): void {
    const nowMs = now.getTime();
    const record = this.current(client, nowMs) ?? {
      failures: 0,
      lastFailureMs: 0,
      blockedUntilMs: 0,
    };
    record.failures++;
    record.lastFailureMs = nowMs;
    const over = record.failures - this.settings.freeFailures;
    if (over > 0) {
      const wait = Math.min(
        this.settings.firstWaitMs * 2 ** (over - 1),
        this.settings.longestWaitMs,
      );
      record.blockedUntilMs = nowMs + wait;
    }
    // Re-inserted, so the Map's order is least recently failing first.
    this.clients.delete(client);
    this.clients.set(client, record);
    while (this.clients.size > this.settings.maxClients) {
      this.clients.delete(this.clients.keys().next().value!);
    }
  }

  /** A right token from `client`: it starts afresh. */
  succeeded(client: string): void {
    this.clients.delete(client);
  }

  private current(client: string, nowMs: number): ClientRecord | undefined {
    const record = this.clients.get(client);
    if (record && nowMs - record.lastFailureMs > this.settings.forgetAfterMs) {
      this.clients.delete(client);
      return undefined;
    }
    return record;
  }
}

/** The client a request counts against: its source address, IPv6 by its /64 prefix. */
export function clientOf(event: HttpEvent): string {
  const address = event.requestContext.http.sourceIp ?? "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The 429 a throttled client gets, with how long to wait. */
export function tooManyWrongTokens(waitSeconds: number): HttpError {
  return new HttpError(
    429,
    "too_many_attempts",
    `too many wrong tokens from this address; try again in ${waitSeconds} s`,
    { "retry-after": String(waitSeconds) },
  );
}
