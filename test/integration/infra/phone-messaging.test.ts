import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLAY_KEY_PREFIX } from "../../../functions/adapters/dynamodb/replay-guard.js";
import { SMS_LAST_KEY_PREFIX } from "../../../functions/integrations/sms/reply-book.js";
import type { PhoneMessagingProps } from "../../../lib/constructs/phone-messaging.js";
import {
  actionsOf,
  asArray,
  environmentOf,
  escalationFunctionId,
  type Json,
  ofType,
  readableSecrets,
  resolveText,
  roles,
  type Synthesized,
  statementsOf,
  synthesize,
} from "./template-queries.js";

/*
 * lib/constructs/phone-messaging.ts in the stack, synthesized with cdk-nag (an unacknowledged
 * finding throws): what each function may do with SNS, End User Messaging, SES and the table.
 */

const VOICE_ARN = "arn:aws:sms-voice:eu-west-1:123456789012:phone-number/phone-0123456789abcdef";
const PHONES: PhoneMessagingProps = {
  sms: { originationNumber: "+447700900999" },
  voiceOrigination: VOICE_ARN,
  twoWaySms: true,
  emailFrom: "tocsin@example.com",
};

let phones: Synthesized;
let plain: Synthesized;

beforeAll(() => {
  phones = synthesize({ grafanaHmac: false, bundle: false, phones: PHONES });
  plain = synthesize({ grafanaHmac: false, bundle: false });
}, 120_000);
afterAll(() => {
  for (const synth of [phones, plain])
    if (synth) rmSync(synth.outdir, { recursive: true, force: true });
});

const functionsWith = (synth: Synthesized, action: string) =>
  ofType(synth.resources, "AWS::Lambda::Function")
    .filter(([id]) =>
      statementsOf(synth.resources, id).some((s) => asArray(s.Action).includes(action)),
    )
    .map(([id]) => id);

const resourcesOf = (statements: Json[], action: string) =>
  statements
    .filter((s) => asArray(s.Action).includes(action))
    .flatMap((s) => asArray(s.Resource).map(resolveText));

function repliesFunctionId(synth: Synthesized): string {
  const [topicId] = ofType(synth.resources, "AWS::SNS::Topic").find(([, t]) =>
    String(t.Properties.DisplayName).includes("replies to SMS pages"),
  )!;
  const [, subscription] = ofType(synth.resources, "AWS::SNS::Subscription").find(
    ([, s]) => s.Properties.TopicArn.Ref === topicId,
  )!;
  expect(subscription.Properties.Protocol).toBe("lambda");
  return subscription.Properties.Endpoint["Fn::GetAtt"][0];
}

describe("phones on AWS", () => {
  it("the escalation function alone may sns:Publish on `*` (SMS names no topic), and may not elsewhere", () => {
    const escalation = escalationFunctionId(phones);
    const wildcard = roles(phones.resources).filter(([, statements]) =>
      statements.some(
        (s) => asArray(s.Resource).includes("*") && asArray(s.Action).includes("sns:Publish"),
      ),
    );

    expect(wildcard.map(([role]) => role)).toEqual([
      phones.resources[escalation].Properties.Role["Fn::GetAtt"][0],
    ]);
    const onAnything = statementsOf(phones.resources, escalation)
      .filter((s) => asArray(s.Resource).includes("*"))
      .flatMap((s) => asArray<string>(s.Action))
      .sort();
    expect(onAnything).toEqual([
      "sns:Publish",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]);
    expect(environmentOf(phones.resources, escalation)).toMatchObject({
      TOCSIN_SMS: "sns",
      TOCSIN_SMS_ORIGINATION: "+447700900999",
      TOCSIN_SMS_REPLIES: "1",
      TOCSIN_VOICE_ORIGINATION: VOICE_ARN,
      TOCSIN_EMAIL_FROM: "tocsin@example.com",
    });
  });

  it("voice calls come from the one origination ARN, personal email from the one SES identity", () => {
    const escalation = escalationFunctionId(phones);
    const statements = statementsOf(phones.resources, escalation);

    expect(actionsOf(statements, "sms-voice")).toEqual(["sms-voice:SendVoiceMessage"]);
    expect(resourcesOf(statements, "sms-voice:SendVoiceMessage")).toEqual([VOICE_ARN]);
    expect(actionsOf(statements, "ses")).toEqual(["ses:SendEmail"]);
    const [identityId, identity] = ofType(phones.resources, "AWS::SES::EmailIdentity")[0]!;
    expect(identity.Properties.EmailIdentity).toBe("tocsin@example.com");
    expect(resourcesOf(statements, "ses:SendEmail")).toEqual([
      `arn:aws:ses:eu-west-1:123456789012:identity/<${identityId}>`,
    ]);
    expect(functionsWith(phones, "sms-voice:SendVoiceMessage")).toEqual([escalation]);
    expect(functionsWith(phones, "ses:SendEmail")).toEqual([escalation]);
  });

  it("the escalation function may put the reply book's items and no other new item", () => {
    const puts = statementsOf(phones.resources, escalationFunctionId(phones)).filter((s) =>
      asArray(s.Action).includes("dynamodb:PutItem"),
    );

    expect(puts.map((s) => s.Condition)).toEqual([
      { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${SMS_LAST_KEY_PREFIX}*`] } },
    ]);
  });

  it("only End User Messaging of this account may publish replies to the SmsReplies topic, over TLS", () => {
    const policy = ofType(phones.resources, "AWS::SNS::TopicPolicy").find(([, p]) =>
      JSON.stringify(p).includes("sms-voice.amazonaws.com"),
    )![1];
    const statements = asArray(policy.Properties.PolicyDocument.Statement);

    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: "Deny",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
        expect.objectContaining({
          Effect: "Allow",
          Action: "sns:Publish",
          Principal: { Service: "sms-voice.amazonaws.com" },
          Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
        }),
      ]),
    );
    expect(
      ofType(phones.resources, "AWS::Lambda::Permission").some(
        ([, p]) => p.Properties.Principal === "sns.amazonaws.com",
      ),
    ).toBe(true);
  });

  it("the SMS replies function acknowledges and nothing more: no secret, no SNS, replay records only as new items", () => {
    const id = repliesFunctionId(phones);
    const statements = statementsOf(phones.resources, id);

    expect(readableSecrets(phones.resources, id)).toEqual([]);
    expect(actionsOf(statements, "sns")).toEqual([]);
    expect(actionsOf(statements, "dynamodb")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    const put = statements.find((s) => asArray(s.Action).includes("dynamodb:PutItem"));
    expect(put.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${REPLAY_KEY_PREFIX}*`] },
    });
    expect(actionsOf(statements, "states")).toEqual([
      "states:StartExecution",
      "states:StopExecution",
    ]);
    expect(Object.keys(environmentOf(phones.resources, id)).sort()).toEqual(
      expect.arrayContaining(["STATE_MACHINE_ARN", "TABLE_NAME"]),
    );
    expect(phones.template.toJSON().Outputs.SmsRepliesTopicArn).toBeDefined();
  });

  it("without phones, the stack has none of it", () => {
    expect(functionsWith(plain, "sms-voice:SendVoiceMessage")).toEqual([]);
    expect(functionsWith(plain, "ses:SendEmail")).toEqual([]);
    expect(ofType(plain.resources, "AWS::SES::EmailIdentity")).toEqual([]);
    const escalation = escalationFunctionId(plain);
    expect(resourcesOf(statementsOf(plain.resources, escalation), "sns:Publish")).not.toContain(
      "*",
    );
    expect(environmentOf(plain.resources, escalation).TOCSIN_SMS).toBeUndefined();
    expect(plain.template.toJSON().Outputs.SmsRepliesTopicArn).toBeUndefined();
  });

  it.each([
    [
      { sms: { originationNumber: "07700900999" } },
      /phones\.sms\.originationNumber: "07700900999" is not E\.164/,
    ],
    [{ sms: { senderId: "123456" } }, /phones\.sms\.senderId/],
    [
      { voiceOrigination: "+447700900999" },
      /phones\.voiceOrigination: .* not an End User Messaging phone-number or pool ARN/,
    ],
    [{ twoWaySms: true, sms: {} }, /phones\.twoWaySms needs phones\.sms\.originationNumber/],
  ])("refuses %j at synth, naming the field", (props, message) => {
    expect(() => synthesize({ grafanaHmac: false, bundle: false, phones: props })).toThrow(message);
  });
});
