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

// ── phones (WP2): -c smsOrigination=+447700900999 (or -c smsSenderId=tocsin) turns SMS on;
// -c voiceOrigination=<phone-number or pool ARN>; -c twoWaySms=true; -c emailFrom=tocsin@example.com
const context = (name: string): string | undefined => app.node.tryGetContext(name) || undefined;
const sms = [true, "true"].includes(app.node.tryGetContext("sms"));
const phones = {
  sms:
    sms || context("smsOrigination") || context("smsSenderId")
      ? { originationNumber: context("smsOrigination"), senderId: context("smsSenderId") }
      : undefined,
  voiceOrigination: context("voiceOrigination"),
  voiceId: context("voiceId"),
  twoWaySms: [true, "true"].includes(app.node.tryGetContext("twoWaySms")),
  emailFrom: context("emailFrom"),
};
// ── end phones ──

new TocsinStack(app, "Tocsin", {
  phones,
  description: "tocsin: alerting and escalation (Alertmanager/Grafana webhooks to incidents)",
  grafanaHmac,
  grafanaSignatureHeader,
  grafanaTimestampHeader,
  operatorEmail,
});
