import { Agent, request } from "node:http";

/** What one HTTP attempt came to, as a sender sees it. */
export type Outcome =
  | { kind: "answer"; status: number; retryAfter: string | null; body: unknown }
  | { kind: "timeout" }
  | { kind: "error"; code: string };

/** One attempt, timed, for the tally of answers (which route, when, what came back). */
export interface Attempt {
  route: "webhook" | "read" | "click";
  /** Date.now() when sent and when it ended. */
  sentAt: number;
  endedAt: number;
  outcome: Outcome;
  /** How long the sender was willing to wait for this attempt. */
  timeoutMs: number;
  /** What was sent, for a reader of the kept data (e.g. `cluster-3 episode 1 resolved`). */
  what?: string;
}

/** Keep-alive connections, as Alertmanager's Go client and Slack keep them. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request that never throws: the answer (status, Retry-After, JSON body when there
 * is one), or a timeout after `timeoutMs`, or the socket error's code (ECONNREFUSED while
 * the server is down, ECONNRESET when it dies mid-request).
 */
export function attempt(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {}, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error: NodeJS.ErrnoException) =>
          settle({ kind: "error", code: error.code ?? error.message }),
        );
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            // kept as text
          }
          const retryAfter = res.headers["retry-after"];
          settle({
            kind: "answer",
            status: res.statusCode ?? 0,
            retryAfter: typeof retryAfter === "string" ? retryAfter : null,
            body,
          });
        });
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: "timeout" });
      req.destroy();
    }, options.timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) =>
      settle({ kind: "error", code: error.code ?? error.message }),
    );
    req.end(options.body);
  });
}

export function closeConnections(): void {
  agent.destroy();
}
