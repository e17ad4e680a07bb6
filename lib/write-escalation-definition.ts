/**
 * `npm run definition`: writes the escalation state machine's definition, synthesized from
 * lib/, where the local engine reads it. A test fails when the file and lib/ disagree.
 */
import { writeFileSync } from "node:fs";
import { synthesizeEscalationDefinition } from "./escalation-definition.js";

const target = new URL("../functions/escalation/escalation.asl.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(synthesizeEscalationDefinition(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
