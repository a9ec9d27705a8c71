// The browser test (`npm run test:browser`): builds the page, serves it on 127.0.0.1, opens it
// in Debian's Chromium (headless, through playwright-core: no browser download) and reports
// the kernel checks the page ran on Chromium's WebGPU (SwiftShader on a machine without a GPU).
//   npx tsx scripts/browser_test.ts [--timeout SECONDS] [--verbose]
//     --timeout   how long the page may take to finish (default 120; GRADVAR_BROWSER_TIMEOUT_S)
//     --verbose   also print the page's console
//   GRADVAR_CHROMIUM=/path/to/chrome   another Chromium-family binary (default /usr/bin/chromium)
//
// Prints the adapter, one line per check, and ends with `N passed, N failed`. A page-level
// failure (no adapter, an uncaught exception, a missing file, a timeout) counts as one more
// failure. Exits 1 on any failure.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { buildWeb, serveStatic, type StaticServer } from './build_web.ts';
import type { WebCheckResult, WebResults } from '../src/web/results.ts';

const CHROMIUM = process.env.GRADVAR_CHROMIUM ?? '/usr/bin/chromium';

// Chromium flags, and why each is there:
//   --headless                 no display on a CI machine (playwright adds it too with headless: true)
//   --no-sandbox               the sandbox needs user namespaces, which containers usually lack
//   --enable-unsafe-webgpu     Linux Chromium ships WebGPU behind this; without it requestAdapter()
//                              returns null. The adapter is then SwiftShader (Vulkan on the CPU,
//                              shipped in chromium-common), with no further flag needed.
//   --disable-background-networking --disable-component-update --disable-sync --no-first-run
//   --disable-quic             keep Chromium off the network: on a machine without one it
//                              otherwise retries updates, sync and QUIC probes all through the run
// A fresh --user-data-dir (a temporary directory, see launchPersistentContext below) keeps every
// run independent of profiles, caches and earlier crashes.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

interface Options {
  timeoutMs: number;
  verbose: boolean;
}

function parseArgs(argv: string[]): Options {
  const at = argv.indexOf('--timeout');
  const raw = at >= 0 ? argv[at + 1] : process.env.GRADVAR_BROWSER_TIMEOUT_S ?? '120';
  const secs = Number(raw);
  if (!(secs > 0)) throw new Error(`--timeout wants a positive number of seconds, got '${raw}'`);
  return { timeoutMs: secs * 1000, verbose: argv.includes('--verbose') };
}

/** What the page ended with, plus what the driver saw around it. */
interface Outcome {
  res: WebResults | null;
  /** uncaught page exceptions, failed requests, crashes */
  pageErrors: string[];
  timedOut: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls window.__gradvarResults until the page is done, printing each check as it finishes.
 *  Stops early when the page broke before it could publish results (e.g. main.js failed). */
async function watchPage(page: Page, timeoutMs: number, pageErrors: string[]): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  let printed = 0;
  let adapterShown = false;
  let res: WebResults | null = null;
  for (;;) {
    res = await page.evaluate(() => window.__gradvarResults ?? null);
    if (res?.adapter && !adapterShown) {
      console.log(`adapter: ${res.adapter}`);
      adapterShown = true;
    }
    while (res && printed < res.results.length && isFinished(res.results[printed])) {
      printCheck(res.results[printed++]);
    }
    // Copies: events that fire while the browser closes (aborted requests) are not failures.
    if (res?.done) return { res, pageErrors: [...pageErrors], timedOut: false };
    if (!res && pageErrors.length > 0) return { res, pageErrors: [...pageErrors], timedOut: false };
    if (Date.now() > deadline) return { res, pageErrors: [...pageErrors], timedOut: true };
    await sleep(200);
  }
}

const isFinished = (r: WebCheckResult) => r.status === 'pass' || r.status === 'fail';

function printCheck(r: WebCheckResult): void {
  const ms = r.ms === null ? '' : ` (${r.ms.toFixed(0)} ms)`;
  console.log(`  ${r.status === 'pass' ? 'ok  ' : 'FAIL'} ${r.name}${ms}`);
  if (r.failure) console.log(`       ${r.failure}`);
}

/** Prints the verdict; returns [passed, failed] with page-level failures counted as one. */
function report(o: Outcome, timeoutMs: number): [number, number] {
  const results = o.res?.results ?? [];
  const passed = results.filter((r) => r.status === 'pass').length;
  let failed = results.filter((r) => r.status === 'fail').length;
  const problems: string[] = [];
  if (o.res?.error) problems.push(`page error: ${o.res.error}`);
  if (o.timedOut) {
    const running = results.find((r) => r.status === 'running');
    const left = results.filter((r) => !isFinished(r)).length;
    problems.push(
      `timed out after ${timeoutMs / 1000} s` +
        (running ? ` while running '${running.name}'` : o.res?.adapter ? '' : ' before the page found an adapter') +
        (left ? `; ${left} check(s) did not finish` : '') +
        ' (raise --timeout if SwiftShader is just slow)',
    );
  }
  if (!o.res && !o.timedOut) problems.push('the page never published window.__gradvarResults');
  if (o.res && !o.res.adapter && !o.res.error && !o.timedOut) problems.push('the page reported no adapter');
  for (const e of o.pageErrors) if (!o.res?.error?.includes(e)) problems.push(e);
  if (o.res?.done && results.length === 0 && !o.res.error) problems.push('the registry returned no checks');
  for (const p of problems) console.log(`error: ${p}`);
  if (problems.length > 0) failed += 1;
  return [passed, failed];
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(CHROMIUM)) {
    console.error(`error: no Chromium at ${CHROMIUM}: bash scripts/setup_system.sh installs it (Debian's chromium package)`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const started = performance.now();
  const { outDir, bundleBytes } = await buildWeb();
  console.log(`built dist/web (main.js ${(bundleBytes / 1024).toFixed(1)} KiB)`);

  let server: StaticServer | null = null;
  let context: BrowserContext | null = null;
  const profile = mkdtempSync(join(tmpdir(), 'gradvar-chromium-'));
  const consoleLines: string[] = [];
  const pageErrors: string[] = [];
  let outcome: Outcome;
  try {
    server = await serveStatic(outDir);
    const { chromium } = await import('playwright-core');
    // A persistent context because playwright's launch() refuses a --user-data-dir argument.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      const line = `[page ${m.type()}] ${m.text()}`;
      consoleLines.push(line);
      if (opts.verbose) console.log(line);
    });
    page.on('pageerror', (e) => pageErrors.push(`uncaught in page: ${e.message}`));
    page.on('crash', () => pageErrors.push('the page crashed'));
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on('requestfailed', (r) => pageErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    await page.goto(server.url, { timeout: 30_000 });
    const ua = await page.evaluate(() => navigator.userAgent);
    console.log(`browser: ${ua.match(/(?:Headless)?Chrome\/[\d.]+/)?.[0] ?? ua} at ${server.url}`);
    outcome = await watchPage(page, opts.timeoutMs, pageErrors);
  } catch (e) {
    // Launch or navigation failed: nothing ran, and the reason is the whole story.
    outcome = { res: null, pageErrors: [...pageErrors, `driver: ${e instanceof Error ? e.message : String(e)}`], timedOut: false };
  } finally {
    await context?.close().catch(() => {});
    await server?.close();
    rmSync(profile, { recursive: true, force: true });
  }

  const [passed, failed] = report(outcome, opts.timeoutMs);
  if (failed > 0 && !opts.verbose && consoleLines.length > 0) {
    console.log('page console:');
    for (const l of consoleLines) console.log(`  ${l}`);
  }
  const pageMs = outcome.res?.totalMs;
  console.log(
    `wall ${((performance.now() - started) / 1000).toFixed(1)} s` +
      (pageMs != null ? ` (checks on the page ${(pageMs / 1000).toFixed(1)} s)` : ''),
  );
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

// Exit through exitCode, not process.exit(): a handle left open would then show as a hang
// here instead of being hidden.
main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  },
);
