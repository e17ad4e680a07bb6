import { escalationLambdaHandler } from "./lambda-runtime.js";

/** Lambda entry point of the escalation state machine's Tasks; see functions/handlers/escalation.ts. */
export const handler = await escalationLambdaHandler();
