import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (this file lives in test/support). */
export const ROOT = resolve(__dirname, '..', '..');
/** E2E_MAIN_JS runs the suite against an app built elsewhere (e.g. a snapshot of a commit); then nothing is built here. */
export const MAIN_JS = process.env.E2E_MAIN_JS ? resolve(process.env.E2E_MAIN_JS) : join(ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');

const LOCK = join(tmpdir(), `affiliate-e2e-build-${Buffer.from(ROOT).toString('base64url')}.lock`);
/** A lock older than this belongs to a build that died; a full build takes well under a minute here. */
const STALE_LOCK_MS = 5 * 60_000;
const WAIT_FOR_OTHER_BUILD_MS = 5 * 60_000;

let builtInThisRun = false;

/** Newest modification time of the sources the build compiles, the web dashboard's too (specs are excluded from the build). */
function newestSourceMs(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path);
      } else if (/\.(ts|tsx|mts|css|html)$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) {
        newest = Math.max(newest, statSync(path).mtimeMs);
      }
    }
  };
  for (const dir of ['libs', 'apps']) if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  return newest;
}

function upToDate(): boolean {
  return existsSync(MAIN_JS) && statSync(MAIN_JS).mtimeMs >= newestSourceMs();
}

function tryLock(): boolean {
  try {
    const fd = openSync(LOCK, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) unlinkSync(LOCK);
    } catch {
      // another worker removed or replaced it first
    }
    return false;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds dist/ with `npm run build` when main.js is missing or older than a source file, at most once
 * per jest run; a lock file in the temp dir keeps parallel workers from building at the same time.
 */
export function ensureBuilt(): void {
  if (process.env.E2E_MAIN_JS) {
    if (!existsSync(MAIN_JS)) throw new Error(`E2E_MAIN_JS points at ${MAIN_JS}, which does not exist`);
    return;
  }
  if (builtInThisRun && existsSync(MAIN_JS)) return;
  const deadline = Date.now() + WAIT_FOR_OTHER_BUILD_MS;
  for (;;) {
    if (tryLock()) break;
    if (Date.now() > deadline) throw new Error(`gave up waiting for the build lock ${LOCK}`);
    sleep(250);
  }
  try {
    if (!upToDate()) {
      try {
        execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 4 * 60_000 });
      } catch (e) {
        const err = e as { stdout?: Buffer; stderr?: Buffer };
        // tsc repeats each error per program it checks: show each line once, and not forever.
        const lines = [...new Set(`${err.stdout?.toString() ?? ''}\n${err.stderr?.toString() ?? ''}`.split('\n').filter((l) => l.trim()))];
        throw new Error(`npm run build failed (the sources do not compile):\n${lines.slice(0, 40).join('\n')}`);
      }
    }
    builtInThisRun = true;
  } finally {
    try {
      unlinkSync(LOCK);
    } catch {
      // already gone
    }
  }
  if (!existsSync(MAIN_JS)) throw new Error(`the build did not produce ${MAIN_JS}`);
}
