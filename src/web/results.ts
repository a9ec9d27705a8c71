// What the page hands to whoever drives it (scripts/browser_test.ts through playwright-core,
// or a person reading the devtools console). The page keeps one WebResults object on
// `window.__gradvarResults` and updates it in place as checks finish, so a driver that gives
// up on a timeout can still read which check was running.

/** pending: not started; running: started, no verdict yet; pass/fail: finished. */
export type CheckStatus = 'pending' | 'running' | 'pass' | 'fail';

export interface WebCheckResult {
  name: string;
  status: CheckStatus;
  /** the mismatch report, or the message of an exception the check threw; null when it passed */
  failure: string | null;
  /** wall time of the check in milliseconds, once finished */
  ms: number | null;
}

export interface WebResults {
  /** describeGpu() of the page's adapter; null until one is found (or when none is) */
  adapter: string | null;
  results: WebCheckResult[];
  /** a page-level failure: no navigator.gpu, no adapter, an uncaught exception */
  error: string | null;
  /** true once every check has finished or a page-level error ended the run */
  done: boolean;
  /** wall time from page start to done, in milliseconds */
  totalMs: number | null;
}

/** Prefix of every console line the page writes, so a driver can pick them out. */
export const LOG_PREFIX = '[gradvar]';

declare global {
  interface Window {
    __gradvarResults?: WebResults;
  }
}
