import { App } from "aws-cdk-lib";
import { checkWithCdkNag } from "./nag.js";
import { TocsinStack } from "./tocsin-stack.js";

const app = new App();
checkWithCdkNag(app);

/** `-c grafanaHmac=true` arrives as a string, a value in cdk.json as a boolean. */
const grafanaHmac = [true, "true"].includes(app.node.tryGetContext("grafanaHmac"));
/** `-c grafanaSignatureHeader=X-Signature -c grafanaTimestampHeader=X-Timestamp`: the contact point's. */
const grafanaSignatureHeader: string | undefined =
  app.node.tryGetContext("grafanaSignatureHeader") || undefined;
const grafanaTimestampHeader: string | undefined =
  app.node.tryGetContext("grafanaTimestampHeader") || undefined;
/** `-c operatorEmail=oncall-ops@example.com` subscribes that address to the alarms. */
const operatorEmail: string | undefined = app.node.tryGetContext("operatorEmail") || undefined;

new TocsinStack(app, "Tocsin", {
  description: "tocsin: alerting and escalation (Alertmanager/Grafana webhooks to incidents)",
  grafanaHmac,
  grafanaSignatureHeader,
  grafanaTimestampHeader,
  operatorEmail,
});
