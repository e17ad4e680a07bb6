import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Config, parseConfig } from "../core/config.js";
import { InvalidConfigError } from "../core/errors.js";
import type { RunbookDefinition } from "../core/runbook.js";
import { loadRunbooks } from "./runbook-files.js";

/** Reads and validates the config file; InvalidConfigError names the file and the field. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidConfigError(
      `cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  return parseConfig(text, path);
}

/** The config and the runbooks it points at: what a cold start reads once. */
export function loadServiceFiles(configPath: string): {
  config: Config;
  runbooks: RunbookDefinition[];
} {
  const config = loadConfigFile(configPath);
  return { config, runbooks: loadRunbooks(resolve(dirname(configPath), config.runbooks.dir)) };
}
