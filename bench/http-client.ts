import { Agent, request } from "node:http";

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export interface JsonHttp {
  post(path: string, token: string, body: unknown): Promise<HttpAnswer>;
  get(path: string, token: string): Promise<HttpAnswer>;
  close(): void;
}

/** The same over the global fetch (undici, keep-alive by default). */
export class FetchClient implements JsonHttp {
  constructor(private readonly baseUrl: string) {}

  async post(path: string, token: string, body: unknown): Promise<HttpAnswer> {
    return this.send(path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async get(path: string, token: string): Promise<HttpAnswer> {
    return this.send(path, { headers: { authorization: `Bearer ${token}` } });
  }

  close(): void {}

  private async send(path: string, init: RequestInit): Promise<HttpAnswer> {
    const response = await fetch(new URL(path, this.baseUrl), init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
}

/**
 * A small JSON client on node:http with a keep-alive agent capped at `sockets` connections.
 * The load generator shares the event loop with the server under test, so it should cost
 * as little as possible (undici's fetch costs noticeably more per request).
 */
export class JsonClient implements JsonHttp {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  post(path: string, token: string, body: unknown): Promise<HttpAnswer> {
    return this.send("POST", path, token, JSON.stringify(body));
  }

  get(path: string, token: string): Promise<HttpAnswer> {
    return this.send("GET", path, token);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, token: string, payload?: string) {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
      }
      const req = request(new URL(path, this.baseUrl), { method, headers, agent: this.agent });
      req.on("error", reject);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
          } catch (error) {
            reject(error);
          }
        });
      });
      req.end(payload);
    });
  }
}

/** Runs `task(0..count-1)` with at most `concurrency` in flight, in index order. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
