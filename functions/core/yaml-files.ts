/**
 * tocsin's YAML files: tocsin.yaml and the runbooks' front matter, parsed into documents
 * and validated by config.ts and runbook.ts. Kept apart from those two so that a Lambda
 * bundle, which reads a JSON snapshot of the same documents, carries no YAML parser.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { type Config, validateConfig } from "./config.js";
import { InvalidConfigError } from "./errors.js";
import { type RunbookDefinition, type RunbookSource, validateRunbook } from "./runbook.js";

/** The document of tocsin.yaml; InvalidConfigError names the line of a YAML error. */
export function readConfigDocument(text: string, source = "tocsin.yaml"): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    throw new InvalidConfigError(`${source}: not valid YAML${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Parses and validates tocsin.yaml (see validateConfig). */
export function parseConfig(text: string, source = "tocsin.yaml"): Config {
  return validateConfig(readConfigDocument(text, source), source);
}

const FRONT_MATTER = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/;

/** Splits a runbook file into its front matter (parsed) and its Markdown body. */
export function readRunbookSource(file: string, text: string): RunbookSource {
  const fail = (message: string): never => {
    throw new InvalidConfigError(`runbooks/${file}: ${message}`);
  };
  const parts = FRONT_MATTER.exec(text.replace(/\r\n/g, "\n"));
  if (!parts) return fail("no front matter: start the file with a '---' block");
  try {
    return { file, frontMatter: parseYaml(parts[1]!), body: parts[2]! };
  } catch (error) {
    return fail(`front matter is not YAML: ${(error as Error).message}`);
  }
}

/** Parses and validates a runbook file (see validateRunbook). */
export function parseRunbook(file: string, text: string): RunbookDefinition {
  return validateRunbook(readRunbookSource(file, text));
}
