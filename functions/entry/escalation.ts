import { escalationLambdaHandler } from "./lambda-runtime.js";

/** Lambda entry point of the escalation state machine's Tasks; see functions/escalation/task-handler.ts. */
export const handler = await escalationLambdaHandler();
