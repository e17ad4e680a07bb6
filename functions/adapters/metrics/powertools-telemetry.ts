import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Telemetry } from "../../app/telemetry.js";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Telemetry for Lambda: CloudWatch metrics through Powertools' embedded metric format
 * (namespace and service "tocsin"), written to the function's log, so no API call.
 * A metric with dimensions goes out at once as a single metric (an EMF document shares
 * one dimension set); the others are buffered until flush() at the end of an invocation.
 */
export class PowertoolsTelemetry implements Telemetry {
  constructor(
    readonly metrics: Metrics = new Metrics({ namespace: "tocsin", serviceName: "tocsin" }),
  ) {}

  count(name: string, value: number, dimensions?: Record<string, string>): void {
    this.#add(name, MetricUnit.Count, value, dimensions);
  }

  timing(name: string, ms: number, dimensions?: Record<string, string>): void {
    this.#add(name, MetricUnit.Milliseconds, ms, dimensions);
  }

  /** Publishes what is buffered; quiet when nothing is (Powertools would warn). */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }

  #add(name: string, unit: Unit, value: number, dimensions?: Record<string, string>) {
    try {
      if (dimensions && Object.keys(dimensions).length > 0) {
        const single = this.metrics.singleMetric();
        single.addDimensions(dimensions);
        single.addMetric(name, unit, value);
      } else {
        this.metrics.addMetric(name, unit, value);
      }
    } catch {
      // A metric over EMF's limits is dropped: telemetry never fails the work it measures.
    }
  }
}

/** Wraps a Lambda handler so the invocation's buffered metrics are published when it ends. */
export function flushingMetrics<E, C, R>(
  telemetry: PowertoolsTelemetry,
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      telemetry.flush();
    }
  };
}
