import { Arn, CfnOutput, Duration, Stack } from "aws-cdk-lib";
import { Grant, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { EmailIdentity, Identity } from "aws-cdk-lib/aws-ses";
import { Topic } from "aws-cdk-lib/aws-sns";
import { LambdaSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { SMS_LAST_KEY_PREFIX } from "../../functions/integrations/sms/reply-book.js";
import { acknowledge, wildcardResource } from "../nag.js";
import type { IncidentTable } from "./incident-table.js";
import { TocsinFunction } from "./tocsin-function.js";

/** What a deployment turns on of phones and personal email (`cdk deploy -c …`, lib/app.ts). */
export interface PhoneMessagingProps {
  /**
   * SMS through SNS Publish to a phone number. `originationNumber` (E.164) is the number
   * texts come from (needed for replies and in countries that require one), `senderId` an
   * alphanumeric sender where allowed. Unset: texts are recorded "not delivered: no credentials".
   */
  readonly sms?: { readonly originationNumber?: string; readonly senderId?: string } | undefined;
  /** Voice calls through End User Messaging from this phone-number or pool ARN. */
  readonly voiceOrigination?: string | undefined;
  /** The Polly voice calls read with; JOANNA by default. */
  readonly voiceId?: string | undefined;
  /** Two-way SMS: replies to the origination number (1 or ACK) acknowledge. Needs sms.originationNumber. */
  readonly twoWaySms?: boolean | undefined;
  /** A person's email through SES v2 from this address (an SES identity the stack creates). */
  readonly emailFrom?: string | undefined;
}

interface Wiring {
  escalationFunction: TocsinFunction;
  incidents: IncidentTable;
  serviceSnapshot: string;
  stateMachine: IStateMachine;
  /** `execution:<state machine>:*`: what an acknowledgement stops. */
  executions: string;
  /** The table actions an acknowledgement needs (the Slack function's). */
  actions: readonly string[];
}

const PHONE_ARN = /^arn:aws[\w-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool)\/[A-Za-z0-9_-]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Phones and personal email for the escalation function, least privilege:
 * - SMS: `sns:Publish` on `*` (a text to a phone number has no resource to name), nothing else
 *   of SNS; env TOCSIN_SMS=sns and the origination number or sender ID.
 * - Voice: `sms-voice:SendVoiceMessage` on the one origination phone number or pool.
 * - Two-way: topic SmsReplies that only End User Messaging of this account may publish to,
 *   over TLS, and its subscriber `smsReplies` (entry/sms-replies.ts), which may read and
 *   update incidents, write replay records, start and stop escalations; the escalation
 *   function may write the reply book's items (`SMSLAST#`) and no other new item.
 * - Email: an SES identity for `emailFrom` and `ses:SendEmail` on it only.
 */
export class PhoneMessaging extends Construct {
  readonly repliesTopic: Topic | undefined;
  readonly repliesFunction: TocsinFunction | undefined;

  constructor(scope: Construct, id: string, props: PhoneMessagingProps & Wiring) {
    super(scope, id);
    const stack = Stack.of(this);
    const escalation = props.escalationFunction;
    const { sms } = props;

    if (sms) {
      if (sms.originationNumber && !E164.test(sms.originationNumber))
        throw new Error(
          `phones.sms.originationNumber: "${sms.originationNumber}" is not E.164 (+447700900123)`,
        );
      if (sms.senderId && !/^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$/.test(sms.senderId))
        throw new Error(
          `phones.sms.senderId: "${sms.senderId}" is not 1-11 letters, digits or hyphens with a letter`,
        );
      escalation.addEnvironment("TOCSIN_SMS", "sns");
      if (sms.originationNumber)
        escalation.addEnvironment("TOCSIN_SMS_ORIGINATION", sms.originationNumber);
      if (sms.senderId) escalation.addEnvironment("TOCSIN_SMS_SENDER_ID", sms.senderId);
      Grant.addToPrincipal({ grantee: escalation, actions: ["sns:Publish"], resourceArns: ["*"] });
      acknowledge(escalation.executionRole, {
        "AwsSolutions-IAM5[Resource::*]":
          "SMS: sns:Publish with PhoneNumber names no topic or endpoint, so IAM can only take `*`; " +
          "the template test holds `*` to sns:Publish on this role alone.",
      });
    }

    if (props.voiceOrigination) {
      if (!PHONE_ARN.test(props.voiceOrigination))
        throw new Error(
          `phones.voiceOrigination: "${props.voiceOrigination}" is not an End User Messaging phone-number or pool ARN`,
        );
      escalation.addEnvironment("TOCSIN_VOICE_ORIGINATION", props.voiceOrigination);
      if (props.voiceId) escalation.addEnvironment("TOCSIN_VOICE_ID", props.voiceId);
      Grant.addToPrincipal({
        grantee: escalation,
        actions: ["sms-voice:SendVoiceMessage"],
        resourceArns: [props.voiceOrigination],
      });
    }

    if (props.emailFrom) {
      const identity = new EmailIdentity(this, "EmailFrom", {
        identity: Identity.email(props.emailFrom),
      });
      escalation.addEnvironment("TOCSIN_EMAIL_FROM", props.emailFrom);
      Grant.addToPrincipal({
        grantee: escalation,
        actions: ["ses:SendEmail"],
        resourceArns: [
          Arn.format(
            { service: "ses", resource: "identity", resourceName: identity.emailIdentityName },
            stack,
          ),
        ],
      });
    }

    if (!props.twoWaySms) {
      this.repliesTopic = undefined;
      this.repliesFunction = undefined;
      return;
    }
    if (!sms?.originationNumber)
      throw new Error(
        "phones.twoWaySms needs phones.sms.originationNumber: replies come to that number",
      );
    escalation.addEnvironment("TOCSIN_SMS_REPLIES", "1");
    props.incidents.grantPutItems(escalation, SMS_LAST_KEY_PREFIX);

    const topic = new Topic(this, "SmsReplies", {
      displayName: "tocsin: replies to SMS pages (End User Messaging two-way)",
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal("sms-voice.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
    );
    const replies = new TocsinFunction(this, "SmsRepliesFunction", {
      entry: "functions/entry/sms-replies.ts",
      serviceSnapshot: props.serviceSnapshot,
      description: "tocsin: a reply of 1 or ACK to an SMS page acknowledges the incident",
      memorySize: 512,
      timeout: Duration.seconds(10),
      environment: {
        TABLE_NAME: props.incidents.table.tableName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      },
    });
    props.incidents.grant(replies, props.actions);
    props.incidents.grantReplayRecords(replies);
    props.stateMachine.grantStartExecution(replies);
    Grant.addToPrincipal({
      grantee: replies,
      actions: ["states:StopExecution"],
      resourceArns: [props.executions],
    });
    acknowledge(replies.executionRole, {
      [wildcardResource(this, props.executions)]:
        "StopExecution takes an execution ARN, and executions are named at run time after their " +
        "incident: `execution:<escalation state machine>:*` is every execution of that one state " +
        "machine and of no other.",
    });
    topic.addSubscription(new LambdaSubscription(replies));
    new CfnOutput(stack, "SmsRepliesTopicArn", {
      value: topic.topicArn,
      description:
        "set as the two-way SMS destination of the origination number (End User Messaging)",
    });
    this.repliesTopic = topic;
    this.repliesFunction = replies;
  }
}
