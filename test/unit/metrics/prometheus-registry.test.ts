import { describe, expect, it } from "vitest";
import { PrometheusRegistry } from "../../../functions/adapters/metrics/prometheus-registry.js";

describe("PrometheusRegistry", () => {
  it("exposes every known family at zero before any sample", () => {
    // Prepare
    const registry = new PrometheusRegistry({
      alerts_deduplicated: { help: "Duplicates." },
      acknowledgement: { help: "Ack seconds.", buckets: [60, 300] },
    });

    // Act
    const text = registry.render();

    // Assess
    expect(text).toBe(
      [
        "# HELP tocsin_alerts_deduplicated_total Duplicates.",
        "# TYPE tocsin_alerts_deduplicated_total counter",
        "tocsin_alerts_deduplicated_total 0",
        "# HELP tocsin_acknowledgement_seconds Ack seconds.",
        "# TYPE tocsin_acknowledgement_seconds histogram",
        'tocsin_acknowledgement_seconds_bucket{le="60"} 0',
        'tocsin_acknowledgement_seconds_bucket{le="300"} 0',
        'tocsin_acknowledgement_seconds_bucket{le="+Inf"} 0',
        "tocsin_acknowledgement_seconds_sum 0",
        "tocsin_acknowledgement_seconds_count 0",
        "",
      ].join("\n"),
    );
  });

  it("adds counts per label set, whatever the label order, and escapes label values", () => {
    // Prepare
    const registry = new PrometheusRegistry({ notifications: { help: "Notifications." } });

    // Act
    registry.count("notifications", 1, { outcome: "delivered", channel: "slack" });
    registry.count("notifications", 1, { channel: "slack", outcome: "delivered" });
    registry.count("notifications", 1, { channel: "pagerduty", outcome: "failed" });
    registry.count("notifications", 2, { channel: 'we"ird\\', outcome: "a\nb" });

    // Assess
    expect(registry.render().split("\n")).toEqual([
      "# HELP tocsin_notifications_total Notifications.",
      "# TYPE tocsin_notifications_total counter",
      'tocsin_notifications_total{channel="pagerduty",outcome="failed"} 1',
      'tocsin_notifications_total{channel="slack",outcome="delivered"} 2',
      'tocsin_notifications_total{channel="we\\"ird\\\\",outcome="a\\nb"} 2',
      "",
    ]);
  });

  it("records timings in seconds into cumulative buckets", () => {
    // Prepare
    const registry = new PrometheusRegistry({
      acknowledgement: { help: "Ack seconds.", buckets: [60, 300] },
    });

    // Act
    registry.timing("acknowledgement", 45_000);
    registry.timing("acknowledgement", 120_000);
    registry.timing("acknowledgement", 600_000);

    // Assess
    expect(registry.render().split("\n").slice(2)).toEqual([
      'tocsin_acknowledgement_seconds_bucket{le="60"} 1',
      'tocsin_acknowledgement_seconds_bucket{le="300"} 2',
      'tocsin_acknowledgement_seconds_bucket{le="+Inf"} 3',
      "tocsin_acknowledgement_seconds_sum 765",
      "tocsin_acknowledgement_seconds_count 3",
      "",
    ]);
  });

  it("exposes a name it has no family for as a counter named after it", () => {
    const registry = new PrometheusRegistry({});

    registry.count("webhooks_received", 1, { source: "grafana" });

    expect(registry.render()).toBe(
      [
        "# HELP tocsin_webhooks_received_total webhooks_received",
        "# TYPE tocsin_webhooks_received_total counter",
        'tocsin_webhooks_received_total{source="grafana"} 1',
        "",
      ].join("\n"),
    );
  });
});
