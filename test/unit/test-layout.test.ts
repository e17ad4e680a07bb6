import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const TEST_DIR = fileURLToPath(new URL("..", import.meta.url));

describe("the test layout", () => {
  it("puts every test file in a vitest project (unit, integration or e2e), so none is left unrun", () => {
    const outside = readdirSync(TEST_DIR, { recursive: true, encoding: "utf8" })
      .map((file) => file.replaceAll("\\", "/"))
      .filter((file) => file.endsWith(".test.ts"))
      .filter((file) => !/^(unit|integration|e2e)\//.test(file));
    expect(outside).toEqual([]);
  });
});
