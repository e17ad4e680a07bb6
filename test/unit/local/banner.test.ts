import { describe, expect, it } from "vitest";
import { banner } from "../../../functions/local/banner.js";
import { localSettings } from "../../../functions/local/environment.js";

const facts = (env: NodeJS.ProcessEnv) => {
  const settings = localSettings({ TOCSIN_DATA_DIR: ":memory:", ...env });
  return {
    settings,
    text: banner({
      settings,
      url: "http://127.0.0.1:8080",
      runbooks: 3,
      resumedEscalations: 0,
      now: new Date("2026-12-01T09:00:00Z"),
    }),
  };
};

describe("the start banner", () => {
  it("prints tokens it generated, with the variable that keeps them, and curl lines holding them", () => {
    const { settings, text } = facts({});
    expect(text).toContain(
      `webhook token:  ${settings.webhookToken} (generated; set TOCSIN_WEBHOOK_TOKEN to keep it)`,
    );
    expect(text).toContain(
      `API token:      ${settings.apiToken} (generated; set TOCSIN_API_TOKEN to keep it)`,
    );
    expect(text).toContain(`curl -s -H 'Authorization: Bearer ${settings.webhookToken}'`);
    expect(text).toContain(
      `curl -s -H 'Authorization: Bearer ${settings.apiToken}' http://127.0.0.1:8080/incidents`,
    );
  });

  it("never prints a token given in the environment; its curl line reads the variable", () => {
    const { text } = facts({ TOCSIN_WEBHOOK_TOKEN: "given-webhook-secret" });
    expect(text).not.toContain("given-webhook-secret");
    expect(text).toContain("webhook token:  from TOCSIN_WEBHOOK_TOKEN (not shown)");
    expect(text).toContain(`curl -s -H "Authorization: Bearer $TOCSIN_WEBHOOK_TOKEN"`);
    expect(text).toMatch(/API token: {6}\S+ \(generated; set TOCSIN_API_TOKEN to keep it\)/);
  });

  it("prints a link key it generated, never one given, and where links open", () => {
    const generated = facts({});
    expect(generated.settings.links.keys).toHaveLength(1);
    expect(generated.text).toContain(
      `link key:       ${generated.settings.links.keys[0]} (generated; set TOCSIN_LINK_KEY to keep it); links open at http://127.0.0.1:8080/a/…`,
    );
    const given = facts({
      TOCSIN_LINK_KEY: "new-key, old-key",
      TOCSIN_PUBLIC_URL: "https://tocsin.example",
    });
    expect(given.settings.links).toEqual({
      keys: ["new-key", "old-key"],
      publicUrl: "https://tocsin.example",
    });
    expect(given.text).not.toContain("new-key");
    expect(given.text).toContain(
      "link key:       from TOCSIN_LINK_KEY (not shown); links open at https://tocsin.example/a/…",
    );
    expect(() => localSettings({ TOCSIN_PUBLIC_URL: "ftp://x" })).toThrow(
      /TOCSIN_PUBLIC_URL must be an http\(s\) URL/,
    );
  });
});
