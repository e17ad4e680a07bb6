import { CfnOutput, Stack } from "aws-cdk-lib";
import type { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { grantSecretRead, tokenSecret, VENDOR_CREDENTIAL } from "../token-secret.js";
import type { IncidentTable } from "./incident-table.js";
import type { TocsinFunction } from "./tocsin-function.js";

export interface PagerDutyIntegrationProps {
  /** The function behind POST /webhooks/pagerduty. */
  readonly webhookFunction: TocsinFunction;
  /** The escalation's function: user mode's REST calls. */
  readonly escalationFunction: TocsinFunction;
  readonly incidents: IncidentTable;
  /** What acting on an incident does to the table (as a Slack click does). */
  readonly tableActions: readonly string[];
}

/**
 * PagerDuty's two secrets and who may read them (README "PagerDuty"): the REST API token of
 * user mode, read only by the escalation's function, and the v3 webhook subscriptions'
 * signing secrets (comma-separated during a rotation), read only by the webhook function,
 * which acts on incidents as a Slack click does and remembers the events it acted on.
 * Starting and stopping executions is granted with the other functions that do (tocsin-stack).
 */
export class PagerDutyIntegration extends Construct {
  readonly apiToken: Secret;
  readonly webhookSecret: Secret;

  constructor(scope: Construct, id: string, props: PagerDutyIntegrationProps) {
    super(scope, id);
    this.apiToken = tokenSecret(
      this,
      "ApiToken",
      "tocsin: PagerDuty REST API token for user mode (an API key acting as the bot user): put yours here",
      VENDOR_CREDENTIAL,
    );
    this.webhookSecret = tokenSecret(
      this,
      "WebhookSecret",
      "tocsin: PagerDuty v3 webhook subscription signing secret (several comma-separated while rotating): put yours here",
      VENDOR_CREDENTIAL,
    );
    props.escalationFunction.addEnvironment(
      "PAGERDUTY_API_TOKEN_SECRET_ARN",
      this.apiToken.secretArn,
    );
    grantSecretRead(props.escalationFunction, this.apiToken);
    props.webhookFunction.addEnvironment(
      "PAGERDUTY_WEBHOOK_SECRET_ARN",
      this.webhookSecret.secretArn,
    );
    grantSecretRead(props.webhookFunction, this.webhookSecret);
    props.incidents.grant(props.webhookFunction, props.tableActions);
    props.incidents.grantReplayRecords(props.webhookFunction);
    new CfnOutput(Stack.of(this), "PagerDutyApiTokenSecretArn", {
      value: this.apiToken.secretArn,
    });
    new CfnOutput(Stack.of(this), "PagerDutyWebhookSecretArn", {
      value: this.webhookSecret.secretArn,
      description: "put the webhook subscription's signing secret here (README PagerDuty)",
    });
  }
}
