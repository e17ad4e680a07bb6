import { createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import {
  type FakeAccount,
  type FakeIncident,
  FakeRestApi,
  type FakeService,
  type FakeUser,
} from "./fake-pagerduty-rest.js";
import { selfSignedCert } from "./self-signed-cert.js";

export type { FakeAccount, FakeIncident, FakeService, FakeUser };

/** One request the fake received, whatever it answered. */
export interface PagerDutyRequest {
  /** performance.now() when the request arrived, in ms. */
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** The status the fake answered (0 when it dropped the connection or hangs). */
  status: number;
  /** REST requests: the users PagerDuty notified because of it (new assignees). */
  notified?: string[];
}

/** A v3 webhook the fake sent, and what the receiver answered. */
export interface SentWebhook {
  url: string;
  type: string;
  eventId: string;
  incidentId: string;
  /** The receiver's status (0: no answer) and parsed body. */
  status: number;
  answer: unknown;
}

export interface WebhookOptions {
  /** Signing secrets: one `v1=` signature each, comma-joined (as during a rotation). */
  secrets: string[];
  /** The user who acted (a user id of the account), null for automation. */
  agent?: string | null;
  /** Another kind of agent (a service's integration), as its reference. */
  agentReference?: Record<string, string>;
  /** The event's id (PagerDuty's is unique per event, repeated on each delivery attempt). */
  eventId?: string;
  occurredAt?: string;
  /** X-Webhook-Id; by default a new one. */
  webhookId?: string;
}

/** How the next requests fail: an HTTP status (with Retry-After), or a dropped connection. */
export interface PagerDutyFailure {
  status?: number;
  /** Seconds, sent as `Retry-After` by the Events API and as `ratelimit-reset` by REST. */
  retryAfter?: number;
  /** How many requests in a row fail this way; default 1, `Infinity` for all. */
  times?: number;
  /** Close the socket without answering (a network error for the client). */
  drop?: boolean;
  /** Never answer: the request stays open until the client gives up or the fake closes. */
  hang?: boolean;
}

/** A request the fake holds unanswered: in flight for as long as the test wants. */
export interface HeldRequest {
  /** Settles when the held request has arrived (recorded, status 0 until answered). */
  arrived: Promise<PagerDutyRequest>;
  /** Answers it as the fake would have (if the client is still there). */
  release: () => void;
}

const ACTIONS = new Set(["trigger", "acknowledge", "resolve"]);
const SEVERITIES = new Set(["critical", "error", "warning", "info"]);

/** The account a fake starts with unless told otherwise. */
export const FAKE_ACCOUNT: FakeAccount = {
  tokens: ["u+fakeRestToken-0123456789"],
  users: [{ id: "PBOTUSR", email: "tocsin-bot@example.com", name: "tocsin bot" }],
  services: [{ id: "PWIXJZS", name: "tocsin people" }],
  requestsPerMinute: 960,
};

/**
 * A stand-in for PagerDuty over HTTPS on 127.0.0.1 with a self-signed certificate (clients
 * trust `ca`): the Events API v2 (`POST /v2/enqueue`), validating events the way PagerDuty
 * documents (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty)
 * and answering 202 `{status: "success", dedup_key, message: "Event processed"}`; the REST
 * API v2's incidents (fake-pagerduty-rest.ts); and v3 webhooks, signed the documented way
 * (sendWebhook, and the echo of each status change tocsin makes through REST).
 */
export class FakePagerDuty {
  readonly requests: PagerDutyRequest[] = [];
  /** Bodies of the events it accepted, in the order it answered them (a held one when released). */
  readonly processed: Array<Record<string, unknown>> = [];
  private failures: Array<
    Required<Omit<PagerDutyFailure, "retryAfter" | "hang">> & PagerDutyFailure
  > = [];
  private holds: Array<{
    matches: (body: Record<string, unknown>) => boolean;
    arrive: (request: PagerDutyRequest) => void;
    released: Promise<void>;
  }> = [];
  private generated = 0;
  /** The REST API's account and incidents. */
  readonly rest: FakeRestApi;
  /** Webhooks sent (by sendWebhook and echoes), with their answers, in the order sent. */
  readonly webhooks: SentWebhook[] = [];
  private subscription: { url: string; secrets: string[] } | undefined;
  private echoes: Array<Promise<unknown>> = [];

  private constructor(
    private readonly httpsServer: Server,
    /** The certificate to trust (PEM). */
    readonly ca: string,
    account: FakeAccount,
  ) {
    this.rest = new FakeRestApi(account);
  }

  static async start(options: { account?: Partial<FakeAccount> } = {}): Promise<FakePagerDuty> {
    const { key, cert } = await selfSignedCert();
    let fake: FakePagerDuty | undefined;
    const server = createServer({ key, cert }, (req, res) => {
      void fake!.handle(req, res);
    });
    fake = new FakePagerDuty(server, cert, { ...FAKE_ACCOUNT, ...options.account });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return fake;
  }

  /** host:port, as pdjs takes it in `server`. */
  get server(): string {
    return `127.0.0.1:${(this.httpsServer.address() as AddressInfo).port}`;
  }

  /** Bodies of the events it accepted, in order. */
  get events(): Array<Record<string, unknown>> {
    return this.requests
      .filter((request) => request.status === 202 && request.path === "/v2/enqueue")
      .map((request) => request.body as Record<string, unknown>);
  }

  /** The REST API requests it received, in order. */
  get restRequests(): PagerDutyRequest[] {
    return this.requests.filter((request) => !request.path.startsWith("/v2/enqueue"));
  }

  /** The incident created with this incident_key (tocsin's incident id), if any. */
  incident(incidentKey: string): FakeIncident | undefined {
    return this.rest.byKey(incidentKey);
  }

  /**
   * Where the account's v3 webhook subscription delivers: from now on each status change made
   * through the REST API is sent there as `incident.acknowledged`/`incident.resolved`, with
   * the `From` user as agent, as PagerDuty does for changes made by API.
   */
  subscribe(subscription: { url: string; secrets: string[] } | undefined): void {
    this.subscription = subscription;
  }

  /**
   * A person acts in the PagerDuty app: the incident becomes `status` as they changed it, and
   * the subscription is sent the matching v3 webhook with them as agent (answered when this
   * resolves).
   */
  async personActs(
    incidentId: string,
    userId: string,
    status: "acknowledged" | "resolved",
  ): Promise<SentWebhook> {
    const incident = this.rest.incidents.get(incidentId);
    if (!incident) throw new Error(`the fake has no incident ${incidentId}`);
    if (!this.subscription) throw new Error("no webhook subscription");
    incident.status = status;
    if (status === "acknowledged") incident.acknowledgedBy = userId;
    else incident.resolvedBy = userId;
    return this.sendWebhook(this.subscription.url, `incident.${status}`, incidentId, {
      secrets: this.subscription.secrets,
      agent: userId,
    });
  }

  /** Waits for the echo webhooks sent so far to be answered. */
  async echoed(): Promise<void> {
    await Promise.all(this.echoes);
  }

  /**
   * Delivers one v3 webhook about `incidentId` to `url` (webhooks/01-Overview: one event per
   * payload), signed with each secret (webhooks/04-Signatures), and answers what came back.
   */
  async sendWebhook(
    url: string,
    type: string,
    incidentId: string,
    options: WebhookOptions,
  ): Promise<SentWebhook> {
    const incident = this.rest.incidents.get(incidentId);
    if (!incident) throw new Error(`the fake has no incident ${incidentId}`);
    const { body, headers, eventId } = this.webhookDelivery(type, incident, options);
    const sent: SentWebhook = { url, type, eventId, incidentId, status: 0, answer: undefined };
    this.webhooks.push(sent);
    try {
      const response = await fetch(url, { method: "POST", headers, body });
      sent.status = response.status;
      const text = await response.text();
      try {
        sent.answer = JSON.parse(text);
      } catch {
        sent.answer = text;
      }
    } catch (error) {
      sent.answer = String(error);
    }
    return sent;
  }

  /** A v3 webhook's body and headers, exactly as they would be sent. */
  webhookDelivery(
    type: string,
    incident: FakeIncident,
    options: WebhookOptions,
  ): { body: string; headers: Record<string, string>; eventId: string } {
    const eventId = options.eventId ?? randomUUID();
    const agent = options.agent ?? null;
    const body = JSON.stringify({
      event: {
        id: eventId,
        event_type: type,
        resource_type: "incident",
        occurred_at: options.occurredAt ?? new Date().toISOString(),
        agent: options.agentReference ?? (agent === null ? null : this.rest.userReference(agent)),
        client: null,
        data: this.rest.webhookData(incident),
      },
    });
    const signature = options.secrets
      .map((secret) => `v1=${createHmac("sha256", secret).update(body).digest("hex")}`)
      .join(",");
    return {
      body,
      eventId,
      headers: {
        "content-type": "application/json",
        "user-agent": "PagerDuty-Webhook/V3.0",
        "x-pagerduty-signature": signature,
        "x-webhook-id": options.webhookId ?? randomUUID(),
        "x-webhook-subscription": "PFAKESUB",
      },
    };
  }

  /**
   * The state PagerDuty gives the alert of `dedupKey` after the events it processed, in
   * the order it answered them, as documented: a trigger opens an alert unless one is open
   * (triggered or acknowledged: it is then appended to it), so a trigger after a resolve
   * opens a new one; acknowledge and resolve change an open alert and are discarded
   * otherwise. Undefined before any trigger.
   */
  alertState(dedupKey: string): "triggered" | "acknowledged" | "resolved" | undefined {
    let state: "triggered" | "acknowledged" | "resolved" | undefined;
    for (const event of this.processed) {
      if (event.dedup_key !== dedupKey) continue;
      const open = state === "triggered" || state === "acknowledged";
      if (event.event_action === "trigger" && !open) state = "triggered";
      else if (event.event_action === "acknowledge" && open) state = "acknowledged";
      else if (event.event_action === "resolve" && open) state = "resolved";
    }
    return state;
  }

  /** Makes the next `times` requests fail as described. */
  failNext(failure: PagerDutyFailure): void {
    this.failures.push({ status: 500, times: 1, drop: false, ...failure });
  }

  /**
   * Holds the next request that `matches` (by default any) without answering it until
   * `release`: a page in flight, for a test to act meanwhile (click, kill the sender).
   */
  holdNext(matches: (body: Record<string, unknown>) => boolean = () => true): HeldRequest {
    let arrive!: (request: PagerDutyRequest) => void;
    let release!: () => void;
    const arrived = new Promise<PagerDutyRequest>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ matches, arrive, released });
    return { arrived, release };
  }

  reset(): void {
    this.requests.length = 0;
    this.processed.length = 0;
    this.webhooks.length = 0;
    this.failures = [];
    this.holds = [];
    this.echoes = [];
    this.rest.reset();
  }

  async close(): Promise<void> {
    this.httpsServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpsServer.close(() => resolve()));
  }

  private restFailure(res: ServerResponse, failure: PagerDutyFailure & { status: number }): void {
    if (failure.status >= 500) {
      res.writeHead(failure.status, { "content-type": "text/plain" });
      res.end("upstream unavailable");
      return;
    }
    const { headers, body } = restFailureAnswer(failure);
    send(res, failure.status, headers, body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // recorded as text; answered 400 below
    }
    const record: PagerDutyRequest = {
      at,
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body,
      status: 0,
    };
    this.requests.push(record);

    const held = this.holds.findIndex((hold) => hold.matches(body as Record<string, unknown>));
    if (held >= 0) {
      const [hold] = this.holds.splice(held, 1);
      hold!.arrive(record);
      await hold!.released;
      if (req.socket.destroyed) return;
    }

    const failure = this.failures[0];
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) this.failures.shift();
      if (failure.drop) {
        req.socket.destroy();
        return;
      }
      if (failure.hang) return; // never answered; close() ends it
      record.status = failure.status;
      const headers: Record<string, string> = {};
      if (!record.path.startsWith("/v2/enqueue")) return this.restFailure(res, failure);
      if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
      if (failure.status === 429) {
        return send(res, 429, headers, {
          status: "throttle event",
          message: "Requests for this service are arriving too quickly. Please retry later.",
        });
      }
      if (failure.status < 500) {
        return send(res, failure.status, headers, {
          status: "invalid event",
          message: "Event object is invalid",
          errors: ["injected failure"],
        });
      }
      // Load balancers answer 5xx in plain text, so clients must not rely on a JSON body.
      res.writeHead(failure.status, { ...headers, "content-type": "text/plain" });
      res.end("upstream unavailable");
      return;
    }

    if (!record.path.startsWith("/v2/enqueue")) {
      const url = new URL(record.path, "https://api.pagerduty.com");
      const answer = this.rest.handle(record.method, url, req.headers, body, Date.now());
      record.status = answer.status;
      record.notified = answer.notified;
      send(res, answer.status, answer.headers, answer.body);
      const change = answer.statusChange;
      if (change && this.subscription) {
        const subscription = this.subscription;
        this.echoes.push(
          this.sendWebhook(subscription.url, `incident.${change.to}`, change.incident.id, {
            secrets: subscription.secrets,
            agent: change.by,
          }),
        );
      }
      return;
    }
    if (record.method !== "POST" || record.path !== "/v2/enqueue") {
      record.status = 404;
      return send(res, 404, {}, { status: "not found", message: "Not Found" });
    }
    const errors = validate(body);
    if (errors.length > 0) {
      record.status = 400;
      return send(
        res,
        400,
        {},
        { status: "invalid event", message: "Event object is invalid", errors },
      );
    }
    const event = body as Record<string, unknown>;
    record.status = 202;
    this.processed.push(event);
    const change = this.rest.applyEvent(event, Date.now());
    if (change && this.subscription) {
      // An integration acted: the agent is its service.
      const service = this.rest.account.services.find((s) => s.id === change.by)!;
      this.echoes.push(
        this.sendWebhook(this.subscription.url, `incident.${change.to}`, change.incident.id, {
          secrets: this.subscription.secrets,
          agentReference: {
            id: service.id,
            type: "service_reference",
            summary: service.name,
            self: `https://api.pagerduty.com/services/${service.id}`,
            html_url: `https://fake.pagerduty.com/services/${service.id}`,
          },
        }),
      );
    }
    send(
      res,
      202,
      {},
      {
        status: "success",
        message: "Event processed",
        dedup_key: (event.dedup_key as string | undefined) ?? `generated-${++this.generated}`,
      },
    );
  }
}

/** An injected REST failure, shaped as the REST API answers (14-Errors, 04-Rate-Limits). */
function restFailureAnswer(failure: PagerDutyFailure & { status: number }): {
  headers: Record<string, string>;
  body: unknown;
} {
  if (failure.status === 429) {
    return {
      headers: {
        "ratelimit-limit": "960",
        "ratelimit-remaining": "0",
        "ratelimit-reset": String(failure.retryAfter ?? 20),
      },
      body: { error: { message: "Rate Limit Exceeded", code: 2020 } },
    };
  }
  return {
    headers: {},
    body: {
      error: { message: "Invalid Input Provided", code: 2001, errors: ["injected failure"] },
    },
  };
}

function validate(body: unknown): string[] {
  if (typeof body !== "object" || body === null) return ["Event object is not valid JSON"];
  const event = body as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof event.routing_key !== "string" || event.routing_key.trim() === "")
    errors.push("'routing_key' is missing or blank");
  else if (!/^[A-Za-z0-9]{32}$/.test(event.routing_key)) errors.push("Invalid routing key");
  if (typeof event.event_action !== "string" || !ACTIONS.has(event.event_action))
    errors.push("'event_action' is invalid (must be trigger, acknowledge or resolve)");
  if (event.event_action === "trigger") {
    const payload = (event.payload ?? {}) as Record<string, unknown>;
    for (const field of ["summary", "source", "severity"]) {
      if (typeof payload[field] !== "string" || payload[field] === "")
        errors.push(`'payload.${field}' is missing or blank`);
    }
    if (typeof payload.summary === "string" && payload.summary.length > 1024)
      errors.push("'payload.summary' is longer than 1024 characters");
    if (typeof payload.severity === "string" && !SEVERITIES.has(payload.severity))
      errors.push("'payload.severity' is invalid");
  } else if (typeof event.dedup_key !== "string" || event.dedup_key === "") {
    errors.push("'dedup_key' is missing or blank");
  }
  return errors;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
