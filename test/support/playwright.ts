/**
 * playwright-core, if installed, loaded at run time so that the suite still compiles and
 * runs without it. The types name only what the browser tests use.
 */
export interface Dialog {
  message(): string;
  dismiss(): Promise<void>;
}
export interface ConsoleMessage {
  text(): string;
}
export interface Download {
  suggestedFilename(): string;
  path(): Promise<string | null>;
}
export interface Response {
  status(): number;
}
export interface Locator {
  count(): Promise<number>;
  textContent(): Promise<string | null>;
  first(): Locator;
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null>;
}
export interface Page {
  goto(url: string): Promise<Response | null>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  selectOption(selector: string, value: string): Promise<string[]>;
  waitForURL(url: string | RegExp): Promise<void>;
  waitForEvent(event: "download"): Promise<Download>;
  locator(selector: string): Locator;
  getByText(text: string, options?: { exact?: boolean }): Locator;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  evaluate<T>(expression: string): Promise<T>;
  on(event: "dialog", listener: (dialog: Dialog) => void): void;
  on(event: "console", listener: (message: ConsoleMessage) => void): void;
}
export interface Cookie {
  name: string;
  value: string;
  httpOnly: boolean;
  sameSite: "Strict" | "Lax" | "None";
  path: string;
  secure: boolean;
}
export interface BrowserContext {
  pages(): Page[];
  newPage(): Promise<Page>;
  cookies(): Promise<Cookie[]>;
  setDefaultTimeout(ms: number): void;
  close(): Promise<void>;
}
export interface Playwright {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: {
        executablePath: string;
        headless: boolean;
        acceptDownloads?: boolean;
        viewport?: { width: number; height: number };
        args: string[];
      },
    ): Promise<BrowserContext>;
  };
}

/** playwright-core, or null when it is not installed. */
export async function loadPlaywright(): Promise<Playwright | null> {
  // A variable keeps TypeScript from resolving the module at compile time.
  const name = "playwright-core";
  try {
    const loaded = (await import(name)) as Playwright & { default?: Playwright };
    return loaded.chromium ? loaded : (loaded.default ?? null);
  } catch {
    return null;
  }
}
