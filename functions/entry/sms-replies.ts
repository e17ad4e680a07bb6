import { smsRepliesLambda } from "./lambda-runtime.js";

/** Lambda entry point of the two-way SMS topic's subscriber; see functions/integrations/sms/replies.ts. */
export const handler = smsRepliesLambda();
