import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { ROOT } from './build';

/** Debian's Chromium: no browser download works here, so playwright-core drives the system package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Screenshots of the browser tests land here (gitignored), one per test, to look at after a failure. */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'web');

/**
 * Installs Debian's chromium package when it is missing (the tests run as root in CI). Never skips:
 * a browser that cannot be installed fails the suite with the reason.
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  try {
    execSync('apt-get update && apt-get install -y chromium', { stdio: 'pipe', timeout: 10 * 60_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${CHROMIUM} is missing and "apt-get install -y chromium" failed: ${err.stderr?.toString().slice(-2000) ?? err.message}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh user data dir (nothing carried over between runs), a laptop-sized window, en-US, Berlin time. */
export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'affiliate-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
  });
  context.setDefaultTimeout(10_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot named after the test; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 120)}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Opens the dashboard and signs in with the token (kept in this tab's sessionStorage). */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl + '/');
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Programs', level: 1 }).waitFor();
}
