import { expect } from "vitest";
import { InvalidConfigError } from "../../functions/core/errors.js";
import { parseConfig } from "../../functions/core/yaml-files.js";

/** The smallest valid tocsin.yaml: the four severities, nowhere to send them. */
export const MINIMAL_CONFIG = `
severities:
  critical: { channels: [] }
  high: { channels: [] }
  warning: { channels: [] }
  info: { channels: [] }
`;

/** Why `text` is refused as test.yaml: the InvalidConfigError's message; fails if accepted. */
export function configProblem(text: string): string {
  try {
    parseConfig(text, "test.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as Error).message;
  }
  throw new Error("the config was accepted");
}
