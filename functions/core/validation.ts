/**
 * How the core validates input: zod's tree-shakable "mini" build (a few tens of KB in a
 * bundle where the classic build weighs 450 KB: every Lambda validates its input, and cold
 * starts pay for each byte), with the English messages ("Invalid input: expected string,
 * received number") that the classic build loads by default. Schemas are built with
 * `import * as z from "zod/mini"` where they are declared (a namespace re-exported from here
 * would keep all of zod in every bundle) and checked with `validate` below.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

/** `schema.safeParse(input)`, with the English messages configured. */
export function validate<T extends z.ZodMiniType>(schema: T, input: unknown) {
  return z.safeParse(schema, input);
}

/** `a.b.0.c`, or `(top level)` for an issue on the whole value. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".") || "(top level)";
}
