/** An Alertmanager webhook v4 delivery of one alert, as tests and benchmarks post it. */
export interface OneAlert {
  labels: Record<string, string>;
  status?: "firing" | "resolved";
  summary?: string;
  startsAt?: string;
}

/**
 * POSTs one alert to `<url>/webhooks/alertmanager` with the webhook token; answers the HTTP
 * status and the incident the delivery landed on (undefined when none, e.g. a resolve of
 * nothing).
 */
export async function postAlert(url: string, token: string, alert: OneAlert) {
  const status = alert.status ?? "firing";
  const response = await fetch(`${url}/webhooks/alertmanager`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      version: "4",
      status,
      alerts: [
        {
          status,
          labels: alert.labels,
          annotations: {
            summary: alert.summary ?? `${alert.labels.alertname} on ${alert.labels.job}`,
          },
          startsAt: alert.startsAt ?? "2026-11-30T09:00:00Z",
        },
      ],
    }),
  });
  const body = (await response.json()) as {
    incidents?: Array<{ id: string; deduplicated: boolean }>;
  };
  return { status: response.status, incident: body.incidents?.[0] };
}
