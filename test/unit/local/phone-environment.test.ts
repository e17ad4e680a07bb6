import { PinpointSMSVoiceV2Client } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import { localSettings } from "../../../functions/local/environment.js";

describe("the local server's phones (TOCSIN_SMS, TOCSIN_VOICE_ORIGINATION)", () => {
  it("go to the outbox unless told otherwise", () => {
    const { notifiers } = localSettings({});

    expect(notifiers.sms).toBeUndefined();
    expect(notifiers.voice).toBeUndefined();
    expect(localSettings({ TOCSIN_SMS: "outbox" }).notifiers.sms).toBeUndefined();
  });

  it("TOCSIN_SMS=sns texts through SNS from the origination number, one attempt per request, no reply book", async () => {
    const { sms } = localSettings({
      TOCSIN_SMS: "sns",
      TOCSIN_SMS_ORIGINATION: "+447911000999",
    }).notifiers;

    expect(sms?.sns).toBeInstanceOf(SNSClient);
    expect(await sms!.sns!.config.maxAttempts()).toBe(1);
    expect(sms).toMatchObject({ originationNumber: "+447911000999", replyBook: undefined });
  });

  it("TOCSIN_VOICE_ORIGINATION calls through End User Messaging from it", () => {
    const { voice } = localSettings({
      TOCSIN_VOICE_ORIGINATION: "+447911000999",
      TOCSIN_VOICE_ID: "AMY",
    }).notifiers;

    expect(voice?.client).toBeInstanceOf(PinpointSMSVoiceV2Client);
    expect(voice).toMatchObject({ originationIdentity: "+447911000999", voiceId: "AMY" });
  });

  it("refuses a TOCSIN_SMS it does not know, naming it", () => {
    expect(() => localSettings({ TOCSIN_SMS: "twilio" })).toThrow(
      "TOCSIN_SMS must be sns or outbox, not twilio",
    );
  });
});
