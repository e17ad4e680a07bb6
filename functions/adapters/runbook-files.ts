import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidConfigError } from "../core/errors.js";
import { type RunbookDefinition, type RunbookSource, validateRunbook } from "../core/runbook.js";
import { readRunbookSource } from "../core/yaml-files.js";

/** Reads every `*.md` runbook in `dir`, sorted by file name, parsed but not validated. */
export function readRunbookSources(dir: string): RunbookSource[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter(
      (file) => file.endsWith(".md") && file.toLowerCase() !== "readme.md",
    );
  } catch (error) {
    throw new InvalidConfigError(
      `cannot read the runbooks folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      { cause: error },
    );
  }
  return files.sort().map((file) => readRunbookSource(file, readFileSync(join(dir, file), "utf8")));
}

/** Reads and validates every runbook in `dir`. */
export function loadRunbooks(dir: string): RunbookDefinition[] {
  return readRunbookSources(dir).map(validateRunbook);
}
