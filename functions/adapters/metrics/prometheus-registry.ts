import type { Telemetry } from "../../app/telemetry.js";

/** What a metric is, for its `# HELP` line; counters end in `_total`, timings in `_seconds`. */
export interface MetricFamily {
  help: string;
  /** Histogram bucket bounds in seconds (timings only). */
  buckets?: readonly number[];
}

/** Acknowledgement latency: from half a minute to a day. */
const ACK_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400] as const;

/** The families tocsin records; each is exposed (at zero) before its first sample. */
export const TOCSIN_FAMILIES: Record<string, MetricFamily> = {
  webhooks_received: { help: "Webhook deliveries received, by source." },
  alerts_deduplicated: { help: "Firing alerts that matched an open incident." },
  incidents_opened: { help: "Incidents opened, by severity." },
  notifications: { help: "Notifications attempted, by channel type and outcome." },
  people_unreachable: {
    help: "People an escalation level named whom none of their contact methods reached, by team and level.",
  },
  acknowledgement: {
    help: "Seconds from an incident opening to its acknowledgement.",
    buckets: ACK_BUCKETS,
  },
};

type Labels = Record<string, string>;
interface Histogram {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function labelText(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const keys = Object.keys(all);
  return keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(all[k]!)}"`).join(",")}}` : "";
}

/** One key per label set, whatever order its labels were given in. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

const sortLabels = (labels: Labels): Labels =>
  Object.fromEntries(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]!]),
  );

/**
 * The local server's metrics, kept in memory and rendered in the Prometheus text
 * exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Counts become counters `<prefix>_<name>_total`; timings become histograms
 * `<prefix>_<name>_seconds`.
 */
export class PrometheusRegistry implements Telemetry {
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  readonly #counters = new Map<string, Map<string, { labels: Labels; value: number }>>();
  readonly #histograms = new Map<string, Map<string, Histogram>>();

  constructor(
    private readonly families: Record<string, MetricFamily> = TOCSIN_FAMILIES,
    private readonly prefix = "tocsin",
  ) {}

  count(name: string, value: number, dimensions: Labels = {}): void {
    const series = this.#counters.get(name) ?? new Map();
    this.#counters.set(name, series);
    const key = seriesKey(dimensions);
    const current = series.get(key) ?? { labels: sortLabels(dimensions), value: 0 };
    current.value += value;
    series.set(key, current);
  }

  timing(name: string, ms: number, dimensions: Labels = {}): void {
    const bounds = this.families[name]?.buckets ?? ACK_BUCKETS;
    const series = this.#histograms.get(name) ?? new Map<string, Histogram>();
    this.#histograms.set(name, series);
    const key = seriesKey(dimensions);
    const current = series.get(key) ?? {
      labels: sortLabels(dimensions),
      buckets: bounds.map(() => 0),
      sum: 0,
      count: 0,
    };
    const seconds = ms / 1000;
    bounds.forEach((bound, i) => {
      if (seconds <= bound) current.buckets[i]! += 1;
    });
    current.sum += seconds;
    current.count += 1;
    series.set(key, current);
  }

  /** Every family, known ones first in catalogue order, each series in label order. */
  render(): string {
    const names = [
      ...new Set([
        ...Object.keys(this.families),
        ...this.#counters.keys(),
        ...this.#histograms.keys(),
      ]),
    ];
    const lines: string[] = [];
    for (const name of names) {
      const family = this.families[name];
      const isTiming = family?.buckets !== undefined || this.#histograms.has(name);
      const help = family?.help ?? name;
      if (isTiming) lines.push(...this.#histogramLines(name, help, family?.buckets));
      else lines.push(...this.#counterLines(name, help));
    }
    return `${lines.join("\n")}\n`;
  }

  #counterLines(name: string, help: string): string[] {
    const metric = `${this.prefix}_${name}_total`;
    const series = [...(this.#counters.get(name)?.values() ?? [])].sort((a, b) =>
      labelText(a.labels).localeCompare(labelText(b.labels)),
    );
    const samples = series.length ? series : [{ labels: {}, value: 0 }];
    return [
      `# HELP ${metric} ${help}`,
      `# TYPE ${metric} counter`,
      ...samples.map((s) => `${metric}${labelText(s.labels)} ${s.value}`),
    ];
  }

  #histogramLines(name: string, help: string, bounds: readonly number[] = ACK_BUCKETS): string[] {
    const metric = `${this.prefix}_${name}_seconds`;
    const series = [...(this.#histograms.get(name)?.values() ?? [])];
    const samples = series.length
      ? series
      : [{ labels: {}, buckets: bounds.map(() => 0), sum: 0, count: 0 }];
    return [
      `# HELP ${metric} ${help}`,
      `# TYPE ${metric} histogram`,
      ...samples.flatMap((h) => [
        ...bounds.map(
          (bound, i) =>
            `${metric}_bucket${labelText(h.labels, { le: String(bound) })} ${h.buckets[i]}`,
        ),
        `${metric}_bucket${labelText(h.labels, { le: "+Inf" })} ${h.count}`,
        `${metric}_sum${labelText(h.labels)} ${h.sum}`,
        `${metric}_count${labelText(h.labels)} ${h.count}`,
      ]),
    ];
  }
}
