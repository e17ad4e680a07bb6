/**
 * The REST API v2 part of FakePagerDuty (fake-pagerduty.ts): incidents created, listed by
 * incident key, reassigned and acknowledged or resolved, as PagerDuty's developer docs say
 * (REST-API/02-Authentication, 04-Rate-Limits, 14-Errors, 15-Incident-Creation-API):
 * `Authorization: Token token=…` (else 401 code 2006), a `From` header naming a user of the
 * account (else 400 code 1008), assignees that exist (400 code 1007), one assignee on
 * create and not with an escalation policy (400 code 2001), no second open incident with
 * the same incident_key on a service (400), an incident a user assigns to themselves is
 * created acknowledged and notifies nobody, and a per-token budget of requests per minute
 * (429 code 2020 with the `ratelimit-*` headers). Each answer says whom it notified.
 */

/** A user of the fake account. */
export interface FakeUser {
  id: string;
  email: string;
  name: string;
}

/** A service of the fake account; `onCall`: whom its escalation policy pages first. */
export interface FakeService {
  id: string;
  name: string;
  onCall?: string[];
  /** Events API v2 routing keys of its integrations: their events open and change its incidents. */
  integrationKeys?: string[];
}

export interface FakeAccount {
  /** REST API tokens the account knows. */
  tokens: string[];
  users: FakeUser[];
  services: FakeService[];
  /** Requests per token per minute (PagerDuty: 960). */
  requestsPerMinute: number;
}

/** An incident as the fake keeps it. */
export interface FakeIncident {
  id: string;
  number: number;
  title: string;
  status: "triggered" | "acknowledged" | "resolved";
  incidentKey: string | null;
  serviceId: string;
  urgency: "high" | "low";
  body: string | null;
  createdAt: string;
  /** Current assignees (user ids). */
  assignees: string[];
  /** Every assignment it had, in order (the first is the creation's). */
  assignmentHistory: string[][];
  /** Who acknowledged and resolved it (user ids), for webhooks' agents. */
  acknowledgedBy?: string;
  resolvedBy?: string;
  /** The incident it was merged into (resolved by the merge), as PagerDuty's resolve_reason says. */
  mergedInto?: string;
}

/** What the REST API answered one request. */
export interface RestResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Users this request had PagerDuty notify (new assignees; none for a self-assignment). */
  notified: string[];
  /** Set when the request changed an incident's status: for the echo webhook. */
  statusChange?: { incident: FakeIncident; to: "acknowledged" | "resolved"; by: string };
}

const V2_ACCEPT = "application/vnd.pagerduty+json;version=2";

function fail(
  status: number,
  code: number,
  message: string,
  errors: string[] = [],
  headers: Record<string, string> = {},
): RestResult {
  return {
    status,
    headers,
    body: { error: { message, code, ...(errors.length ? { errors } : {}) } },
    notified: [],
  };
}

export class FakeRestApi {
  readonly incidents = new Map<string, FakeIncident>();
  private windows = new Map<string, { startedAt: number; count: number }>();
  private created = 0;

  constructor(readonly account: FakeAccount) {}

  reset(): void {
    this.incidents.clear();
    this.windows.clear();
  }

  /**
   * What an accepted Events API v2 event does to the incidents of the service whose
   * integration key it carries (none for an unknown key): a trigger opens an incident with
   * the dedup key as incident_key unless one is open (its escalation policy pages `onCall`),
   * acknowledge and resolve change the open one. Answers the status change, for the echo.
   */
  applyEvent(event: Record<string, unknown>, now: number): RestResult["statusChange"] {
    const service = this.account.services.find((s) =>
      s.integrationKeys?.includes(String(event.routing_key)),
    );
    const key = typeof event.dedup_key === "string" ? event.dedup_key : undefined;
    if (!service || !key) return undefined;
    const open = this.openIncident(key, service.id);
    if (event.event_action === "trigger") {
      if (open) return undefined;
      this.created += 1;
      const payload = (event.payload ?? {}) as { summary?: string; severity?: string };
      const incident: FakeIncident = {
        id: `Q${String(this.created).padStart(4, "0")}EVNT${Math.floor(now % 1e6)}`,
        number: this.created,
        title: payload.summary ?? key,
        status: "triggered",
        incidentKey: key,
        serviceId: service.id,
        urgency: payload.severity === "critical" || payload.severity === "error" ? "high" : "low",
        body: null,
        createdAt: new Date(now).toISOString(),
        assignees: [...(service.onCall ?? [])],
        assignmentHistory: [[...(service.onCall ?? [])]],
      };
      this.incidents.set(incident.id, incident);
      return undefined;
    }
    if (!open) return undefined;
    const to = event.event_action === "acknowledge" ? "acknowledged" : "resolved";
    if (event.event_action !== "acknowledge" && event.event_action !== "resolve") return undefined;
    if (open.status === to) return undefined;
    open.status = to;
    return { incident: open, to, by: service.id };
  }

  /** The open (triggered or acknowledged) incident of that key on the service, if any. */
  private openIncident(incidentKey: string, serviceId: string): FakeIncident | undefined {
    return [...this.incidents.values()].find(
      (i) => i.incidentKey === incidentKey && i.serviceId === serviceId && i.status !== "resolved",
    );
  }

  /** The incident with that incident_key (the latest), if any. */
  byKey(incidentKey: string): FakeIncident | undefined {
    return [...this.incidents.values()].filter((i) => i.incidentKey === incidentKey).at(-1);
  }

  user(id: string): FakeUser | undefined {
    return this.account.users.find((u) => u.id === id);
  }

  /** Serves one REST request; `now` is Date.now() of its arrival. */
  handle(
    method: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
    now: number,
  ): RestResult {
    const token = /^Token token=(.+)$/.exec(String(headers.authorization ?? ""))?.[1];
    if (!token || !this.account.tokens.includes(token)) {
      return fail(401, 2006, "Authentication failed");
    }
    const limit = this.budget(token, now);
    if (limit.over) {
      return fail(429, 2020, "Rate Limit Exceeded", [], limit.headers);
    }
    const answer = this.route(method, url, headers, body, now);
    return { ...answer, headers: { ...limit.headers, ...answer.headers } };
  }

  private budget(token: string, now: number): { over: boolean; headers: Record<string, string> } {
    let window = this.windows.get(token);
    if (!window || now - window.startedAt >= 60_000) {
      window = { startedAt: now, count: 0 };
      this.windows.set(token, window);
    }
    window.count += 1;
    const limit = this.account.requestsPerMinute;
    const reset = Math.max(1, Math.ceil((window.startedAt + 60_000 - now) / 1000));
    return {
      over: window.count > limit,
      headers: {
        "ratelimit-limit": String(limit),
        "ratelimit-remaining": String(Math.max(0, limit - window.count)),
        "ratelimit-reset": String(reset),
      },
    };
  }

  private route(
    method: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
    now: number,
  ): RestResult {
    if (headers.accept !== V2_ACCEPT) {
      return fail(406, 2001, "Invalid Input Provided", [`Accept must be ${V2_ACCEPT}`]);
    }
    const one = /^\/incidents\/([A-Z0-9]+)$/.exec(url.pathname)?.[1];
    if (url.pathname === "/incidents" && method === "POST") return this.create(headers, body, now);
    if (url.pathname === "/incidents" && method === "GET") return this.list(url);
    if (one && method === "GET") {
      const incident = this.incidents.get(one);
      return incident
        ? { status: 200, headers: {}, body: { incident: this.view(incident) }, notified: [] }
        : fail(404, 2100, "Not Found");
    }
    if (one && method === "PUT") return this.update(one, headers, body);
    return fail(404, 2100, "Not Found");
  }

  /** The From user, or the 400 PagerDuty answers without one. */
  private requester(headers: Record<string, string | string[] | undefined>): FakeUser | RestResult {
    const from = String(headers.from ?? "");
    const user = this.account.users.find((u) => u.email.toLowerCase() === from.toLowerCase());
    return user ?? fail(400, 1008, "Requester User Not Found", [`no user with email '${from}'`]);
  }

  private create(
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
    now: number,
  ): RestResult {
    const requester = this.requester(headers);
    if ("status" in requester) return requester;
    const incident = (body as { incident?: Record<string, unknown> } | null)?.incident;
    if (typeof incident !== "object" || incident === null || incident.type !== "incident") {
      return fail(400, 2001, "Invalid Input Provided", ["incident.type must be 'incident'"]);
    }
    const title = incident.title;
    if (typeof title !== "string" || title.trim() === "") {
      return fail(400, 2001, "Invalid Input Provided", ["Title cannot be empty."]);
    }
    const serviceRef = incident.service as { id?: unknown; type?: unknown } | undefined;
    const service = this.account.services.find((s) => s.id === serviceRef?.id);
    if (!service || serviceRef?.type !== "service_reference") {
      return fail(400, 2001, "Invalid Input Provided", ["Service not found"]);
    }
    const assignments = incident.assignments;
    if (assignments !== undefined && incident.escalation_policy !== undefined) {
      return fail(400, 2001, "Invalid Input Provided", [
        "Assignments cannot be provided with an escalation policy",
      ]);
    }
    const assignees = this.assigneesOf(assignments);
    if ("status" in assignees) return assignees;
    if (assignees.length > 1) {
      return fail(400, 2001, "Invalid Input Provided", ["Only one assignee is supported"]);
    }
    const key = typeof incident.incident_key === "string" ? incident.incident_key : null;
    if (key && this.openIncident(key, service.id)) {
      return fail(400, 2001, "Invalid Input Provided", [
        "Open incident with matching dedup key already exists on this service",
      ]);
    }
    const self = assignees.length === 1 && assignees[0] === requester.id;
    this.created += 1;
    const created: FakeIncident = {
      id: `Q${String(this.created).padStart(4, "0")}FAKE${Math.floor(now % 1e6)}`,
      number: this.created,
      title,
      status: self ? "acknowledged" : "triggered",
      incidentKey: key,
      serviceId: service.id,
      urgency: incident.urgency === "low" ? "low" : "high",
      body:
        typeof (incident.body as { details?: unknown } | undefined)?.details === "string"
          ? (incident.body as { details: string }).details
          : null,
      createdAt: new Date(now).toISOString(),
      assignees: assignees.length ? assignees : [...(service.onCall ?? [])],
      assignmentHistory: [],
      ...(self ? { acknowledgedBy: requester.id } : {}),
    };
    created.assignmentHistory.push([...created.assignees]);
    this.incidents.set(created.id, created);
    return {
      status: 201,
      headers: {},
      body: { incident: this.view(created) },
      // A user who assigns an incident to themselves is not notified (it is theirs, acknowledged).
      notified: self ? [] : [...created.assignees],
    };
  }

  private list(url: URL): RestResult {
    const key = url.searchParams.get("incident_key");
    const services = url.searchParams.getAll("service_ids[]");
    const statuses = url.searchParams.getAll("statuses[]");
    const found = [...this.incidents.values()].filter(
      (i) =>
        (key === null || i.incidentKey === key) &&
        (services.length === 0 || services.includes(i.serviceId)) &&
        (statuses.length === 0 || statuses.includes(i.status)),
    );
    return {
      status: 200,
      headers: {},
      body: {
        incidents: found.map((i) => this.view(i)),
        limit: 25,
        offset: 0,
        more: false,
        total: null,
      },
      notified: [],
    };
  }

  private update(
    id: string,
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
  ): RestResult {
    const requester = this.requester(headers);
    if ("status" in requester) return requester;
    const incident = this.incidents.get(id);
    if (!incident) return fail(404, 2100, "Not Found");
    const change = (body as { incident?: Record<string, unknown> } | null)?.incident;
    if (
      typeof change !== "object" ||
      change === null ||
      (change.type !== "incident" && change.type !== "incident_reference")
    ) {
      return fail(400, 2001, "Invalid Input Provided", [
        "incident.type must be 'incident_reference'",
      ]);
    }
    const status = change.status;
    if (status !== undefined && status !== "acknowledged" && status !== "resolved") {
      return fail(400, 1003, "Invalid Status Provided");
    }
    if (incident.status === "resolved") return fail(400, 1001, "Incident Already Resolved");
    if (status === "acknowledged" && incident.status === "acknowledged" && !change.assignments) {
      return fail(400, 1002, "Incident Already Acknowledged");
    }
    let notified: string[] = [];
    if (change.assignments !== undefined) {
      const assignees = this.assigneesOf(change.assignments);
      if ("status" in assignees) return assignees;
      if (assignees.length === 0) {
        return fail(400, 2001, "Invalid Input Provided", ["Assignments cannot be empty"]);
      }
      notified = assignees.filter((u) => !incident.assignees.includes(u) && u !== requester.id);
      incident.assignees = assignees;
      incident.assignmentHistory.push([...assignees]);
      // Reassigning puts an acknowledged incident back to triggered: the new assignees are paged.
      if (incident.status === "acknowledged" && notified.length) incident.status = "triggered";
    }
    let statusChange: RestResult["statusChange"];
    if (status === "acknowledged" || status === "resolved") {
      incident.status = status;
      if (status === "acknowledged") incident.acknowledgedBy = requester.id;
      else incident.resolvedBy = requester.id;
      statusChange = { incident, to: status, by: requester.id };
    }
    return {
      status: 200,
      headers: {},
      body: { incident: this.view(incident) },
      notified,
      ...(statusChange ? { statusChange } : {}),
    };
  }

  /** The user ids of `assignments`, or the 400 for a malformed list or an unknown user. */
  private assigneesOf(assignments: unknown): string[] | RestResult {
    if (assignments === undefined) return [];
    if (!Array.isArray(assignments)) {
      return fail(400, 2001, "Invalid Input Provided", ["Assignments must be an array"]);
    }
    const ids: string[] = [];
    for (const entry of assignments) {
      const assignee = (entry as { assignee?: { id?: unknown; type?: unknown } } | null)?.assignee;
      if (typeof assignee?.id !== "string" || assignee.type !== "user_reference") {
        return fail(400, 2001, "Invalid Input Provided", [
          "Each assignment needs an assignee user_reference",
        ]);
      }
      if (!this.user(assignee.id)) return fail(400, 1007, "Assigned To User Not Found");
      if (!ids.includes(assignee.id)) ids.push(assignee.id);
    }
    return ids;
  }

  /** The incident as the REST API shows it. */
  view(incident: FakeIncident): Record<string, unknown> {
    const service = this.account.services.find((s) => s.id === incident.serviceId)!;
    return {
      id: incident.id,
      type: "incident",
      summary: `[#${incident.number}] ${incident.title}`,
      self: `https://api.pagerduty.com/incidents/${incident.id}`,
      html_url: `https://fake.pagerduty.com/incidents/${incident.id}`,
      incident_number: incident.number,
      title: incident.title,
      created_at: incident.createdAt,
      status: incident.status,
      incident_key: incident.incidentKey,
      urgency: incident.urgency,
      service: {
        id: service.id,
        type: "service_reference",
        summary: service.name,
        self: `https://api.pagerduty.com/services/${service.id}`,
      },
      assignments: incident.assignees.map((id) => ({
        at: incident.createdAt,
        assignee: this.userReference(id),
      })),
      ...(incident.body ? { body: { type: "incident_body", details: incident.body } } : {}),
    };
  }

  /** The incident as a v3 webhook's `event.data` shows it (webhooks/01-Overview). */
  webhookData(incident: FakeIncident): Record<string, unknown> {
    const service = this.account.services.find((s) => s.id === incident.serviceId)!;
    return {
      id: incident.id,
      type: "incident",
      self: `https://api.pagerduty.com/incidents/${incident.id}`,
      html_url: `https://fake.pagerduty.com/incidents/${incident.id}`,
      number: incident.number,
      status: incident.status,
      incident_key: incident.incidentKey,
      created_at: incident.createdAt,
      title: incident.title,
      service: {
        html_url: `https://fake.pagerduty.com/services/${service.id}`,
        id: service.id,
        self: `https://api.pagerduty.com/services/${service.id}`,
        summary: service.name,
        type: "service_reference",
      },
      assignees: incident.assignees.map((id) => this.userReference(id)),
      escalation_policy: {
        html_url: "https://fake.pagerduty.com/escalation_policies/PFAKEEP",
        id: "PFAKEEP",
        self: "https://api.pagerduty.com/escalation_policies/PFAKEEP",
        summary: "Default",
        type: "escalation_policy_reference",
      },
      teams: [],
      priority: null,
      urgency: incident.urgency,
      conference_bridge: null,
      resolve_reason: incident.mergedInto
        ? {
            type: "merge_resolve_reason",
            incident: {
              id: incident.mergedInto,
              type: "incident_reference",
              self: `https://api.pagerduty.com/incidents/${incident.mergedInto}`,
              html_url: `https://fake.pagerduty.com/incidents/${incident.mergedInto}`,
            },
          }
        : null,
    };
  }

  userReference(id: string): Record<string, string> {
    return {
      id,
      type: "user_reference",
      summary: this.user(id)?.name ?? id,
      self: `https://api.pagerduty.com/users/${id}`,
      html_url: `https://fake.pagerduty.com/users/${id}`,
    };
  }
}
