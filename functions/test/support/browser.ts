import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it); CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const webDir = join(__dirname, "..", "..", "..", "web");
/** Screenshots of browser tests, one per step (git-ignored): functions/test-artifacts/browser/. */
export const artifactsDir = join(__dirname, "..", "..", "test-artifacts", "browser");

/** Builds the web app (web/build.mjs) into a fresh folder with the given config.json values. */
export function buildWebApp(config: Record<string, string>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "talowa-web-"));
  execFileSync(process.execPath, [join(webDir, "build.mjs"), "--out", dir, "--config", JSON.stringify(config)], { stdio: "pipe" });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`No Chromium at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  return puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    // Our machines have no outside network: keep Chromium from trying (and from needing a sandbox as root).
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** Steps of one browser test, each with a screenshot of every page in artifactsDir. */
export class Steps {
  private n = 0;

  constructor(private readonly name: string) {
    rmSync(join(artifactsDir, name), { recursive: true, force: true });
    mkdirSync(join(artifactsDir, name), { recursive: true });
  }

  async shot(step: string, pages: Record<string, Page>): Promise<void> {
    this.n += 1;
    const prefix = String(this.n).padStart(2, "0");
    for (const [who, page] of Object.entries(pages)) {
      if (!page.isClosed()) await page.screenshot({ path: join(artifactsDir, this.name, `${prefix}-${step}-${who}.png`) as `${string}.png` });
    }
  }
}

/** The page's document, as the functions below see it inside the browser (this project compiles without the DOM library). */
declare const document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }> };

export const byTestId = (id: string) => `[data-testid="${id}"]`;

/** Waits until some element matching `selector` has text containing `text`. */
export async function waitForText(page: Page, selector: string, text: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    (sel: string, wanted: string) => [...document.querySelectorAll(sel)].some((e) => (e.textContent ?? "").includes(wanted)),
    { timeout: timeoutMs },
    selector,
    text,
  );
}

/** The texts of the open conversation's messages, top to bottom. */
export function shownMessages(page: Page): Promise<string[]> {
  return page.$$eval(`${byTestId("messages")} ${byTestId("content")}`, (nodes) => nodes.map((n) => n.textContent ?? ""));
}

/** Waits until exactly `count` elements match `selector`. */
export async function waitForCount(page: Page, selector: string, count: number, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction((sel: string, n: number) => document.querySelectorAll(sel).length === n, { timeout: timeoutMs }, selector, count);
}
