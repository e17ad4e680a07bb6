/**
 * A big alert group: GPU memory pressure across a fleet of 8-GPU nodes, one alert per GPU,
 * labelled as DCGM-exporter rules label them (~750 bytes each in a webhook call).
 */

/** One alert as Prometheus posts it to Alertmanager (postableAlert). */
export interface FleetAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  generatorURL: string;
}

export function gpuFleetAlerts(options: {
  count: number;
  severity: string;
  /** Makes the label sets, so the fingerprints, unique to one run. */
  run: string;
  startsAt?: string;
}): FleetAlert[] {
  const startsAt = options.startsAt ?? new Date().toISOString();
  return Array.from({ length: options.count }, (_, i) => {
    const node = `gpu-node-${String(Math.floor(i / 8)).padStart(3, "0")}`;
    return {
      labels: {
        alertname: "GPUMemoryPressure",
        severity: options.severity,
        team: "ml-training",
        run: options.run,
        node,
        instance: `${node}:9400`,
        job: "dcgm-exporter",
        gpu: String(i % 8),
        UUID: `GPU-${String(i).padStart(8, "0")}-7f3c-4b1e-9d2a-5e6f7a8b9c0d`,
        modelName: "NVIDIA H100 80GB HBM3",
        namespace: "training",
        pod: `llama-70b-pretrain-worker-${i}`,
      },
      annotations: {
        summary: `GPU ${i % 8} on ${node} is at 97% of its HBM`,
        description:
          "Framebuffer use above 95% for 10 minutes; the next allocation may fail with an " +
          "out-of-memory error and kill the training step.",
      },
      startsAt,
      generatorURL: `http://prometheus:9090/graph?g0.expr=DCGM_FI_DEV_FB_USED%7Bnode%3D%22${node}%22%7D`,
    };
  });
}

/**
 * The webhook call Alertmanager 0.25 makes for a group of firing alerts.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export function alertmanagerGroup(
  alerts: readonly FleetAlert[],
  extra: Record<string, unknown> = {},
) {
  const first = alerts[0]?.labels ?? {};
  return {
    version: "4",
    groupKey: `{}:{alertname="${first.alertname}",run="${first.run}"}`,
    truncatedAlerts: 0,
    status: "firing",
    receiver: "tocsin",
    groupLabels: { alertname: first.alertname },
    commonLabels: { alertname: first.alertname, severity: first.severity },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    ...extra,
    alerts: alerts.map((alert) => ({
      status: "firing",
      ...alert,
      endsAt: "0001-01-01T00:00:00Z",
    })),
  };
}
