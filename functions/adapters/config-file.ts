import { readFileSync } from "node:fs";
import { type Config, parseConfig } from "../core/config.js";
import { InvalidConfigError } from "../core/errors.js";

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
