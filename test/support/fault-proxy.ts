import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { crc32 } from "node:zlib";

/**
 * What the proxy does to one DynamoDB request instead of passing it through:
 * - `reset`: the connection is reset before the request reaches DynamoDB (nothing written);
 * - `reset-after`: the request reaches DynamoDB, then the connection is reset before the
 *   answer (written, but the client cannot know: its retry must be harmless);
 * - `hang`: no answer, ever (a black-holed connection), until the client gives up;
 * - `throttle`: 400 ProvisionedThroughputExceededException, as DynamoDB throttles;
 * - `internal`: 500 InternalServerError, as DynamoDB answers its own faults.
 */
export const DYNAMO_FAULTS = ["reset", "reset-after", "hang", "throttle", "internal"] as const;
export type DynamoFault = (typeof DYNAMO_FAULTS)[number];

/** Faults injected at random: each request meets one of `kinds` with probability `rate`. */
export interface FaultPlan {
  rate: number;
  kinds: readonly DynamoFault[];
}

export interface FaultProxyStats {
  /** Requests that reached the proxy. */
  requests: number;
  /** Requests passed to DynamoDB and answered to the client as DynamoDB answered. */
  forwarded: number;
  /** Requests the proxy could not pass on: DynamoDB was not there (its connection reset). */
  upstreamDown: number;
  faults: Record<DynamoFault, number>;
}

/**
 * DynamoDB's JSON 1.0 error bodies, as the service sends them (`__type` names the error the
 * SDK raises): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
const ERRORS: Record<"throttle" | "internal", { status: number; type: string; message: string }> = {
  throttle: {
    status: 400,
    type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    message:
      "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
  },
  internal: {
    status: 500,
    type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
    message: "Internal server error",
  },
};

/** A small seeded generator (mulberry32), so a run's faults can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a DynamoDB endpoint (dynalite) that injects the
 * faults a client meets on the way to DynamoDB: connection resets before or after the
 * write, hangs, throttling and internal errors in DynamoDB's own wire format. Point a
 * client's `endpoint` at `endpoint`; the upstream may come and go (a killed server's
 * embedded dynalite): while it is away, connections are reset.
 */
export class DynamoFaultProxy {
  readonly stats: FaultProxyStats = {
    requests: 0,
    forwarded: 0,
    upstreamDown: 0,
    faults: Object.fromEntries(DYNAMO_FAULTS.map((kind) => [kind, 0])) as Record<
      DynamoFault,
      number
    >,
  };
  private plan: FaultPlan | null = null;
  private queued: DynamoFault[] = [];
  private readonly hung = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly random: () => number,
  ) {}

  static async start(options: {
    /** The DynamoDB endpoint behind the proxy, e.g. `http://127.0.0.1:8000`. */
    upstream: string;
    port?: number;
    seed?: number;
  }): Promise<DynamoFaultProxy> {
    let proxy: DynamoFaultProxy | undefined;
    const server = createServer((req, res) => proxy!.handle(req, res));
    proxy = new DynamoFaultProxy(
      server,
      new URL(options.upstream),
      seededRandom(options.seed ?? 1),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** The URL to give a DynamoDB client as its `endpoint`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** From now on, faults at random as planned; null passes everything through. */
  setFaults(plan: FaultPlan | null): void {
    this.plan = plan;
  }

  /** The next `times` requests meet `fault`, before any random plan. */
  failNext(fault: DynamoFault, times = 1): void {
    for (let i = 0; i < times; i++) this.queued.push(fault);
  }

  /** Requests hanging now (held without an answer). */
  get hanging(): number {
    return this.hung.size;
  }

  /** Resets the connections of hanging requests (as a client's own timeout would end them). */
  releaseHangs(): void {
    for (const socket of this.hung) socket.resetAndDestroy();
    this.hung.clear();
  }

  async close(): Promise<void> {
    this.releaseHangs();
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextFault(): DynamoFault | null {
    const queued = this.queued.shift();
    if (queued) return queued;
    const plan = this.plan;
    if (!plan || plan.kinds.length === 0 || this.random() >= plan.rate) return null;
    return plan.kinds[Math.floor(this.random() * plan.kinds.length)]!;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests += 1;
    const fault = this.nextFault();
    if (fault) this.stats.faults[fault] += 1;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      switch (fault) {
        case "reset":
          return req.socket.resetAndDestroy();
        case "hang":
          this.hung.add(req.socket);
          req.socket.once("close", () => this.hung.delete(req.socket));
          return;
        case "throttle":
        case "internal":
          return answerError(res, ERRORS[fault]);
        default:
          return this.forward(req, body, res, fault === "reset-after");
      }
    });
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    resetAfter: boolean,
  ): void {
    const upstream = request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: this.agent,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("error", () => req.socket.resetAndDestroy());
        answer.on("end", () => {
          if (resetAfter) return req.socket.resetAndDestroy();
          this.stats.forwarded += 1;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    upstream.on("error", () => {
      this.stats.upstreamDown += 1;
      req.socket.resetAndDestroy();
    });
    upstream.end(body);
  }
}

function answerError(
  res: ServerResponse,
  error: { status: number; type: string; message: string },
): void {
  const body = Buffer.from(JSON.stringify({ __type: error.type, message: error.message }));
  res.writeHead(error.status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": String(body.length),
    "x-amzn-requestid": `FAULT${Math.random().toString(36).slice(2, 14).toUpperCase()}`,
    "x-amz-crc32": String(crc32(body)),
  });
  res.end(body);
}
