import { App } from "aws-cdk-lib";
import { TocsinStack } from "./tocsin-stack.js";

const app = new App();

/** `-c grafanaHmac=true` arrives as a string, a value in cdk.json as a boolean. */
const grafanaHmac = [true, "true"].includes(app.node.tryGetContext("grafanaHmac"));

new TocsinStack(app, "Tocsin", {
  description: "tocsin: alerting and escalation (Alertmanager/Grafana webhooks to incidents)",
  grafanaHmac,
});
