import { owedMirrorsLambda } from "./lambda-runtime.js";

/** Lambda entry point of the owed-mirrors schedule; see functions/escalation/owed-mirrors.ts. */
export const handler = owedMirrorsLambda();
