// DOM side of the page: the adapter line, the status line and the table of checks.
// It only renders WebResults; running the checks is main.ts's business.
import type { WebCheckResult, WebResults } from './results.ts';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el as T;
}

const STATUS_TEXT: Record<WebCheckResult['status'], string> = {
  pending: 'pending',
  running: 'running…',
  pass: 'pass',
  fail: 'FAIL',
};

export class ChecksView {
  private readonly adapter = byId<HTMLElement>('adapter');
  private readonly status = byId<HTMLElement>('status');
  private readonly error = byId<HTMLElement>('error');
  private readonly body = byId<HTMLTableSectionElement>('check-rows');
  private rows: HTMLTableRowElement[] = [];

  showAdapter(text: string): void {
    this.adapter.textContent = text;
  }

  /** One row per check, in registry order, all pending. */
  setChecks(results: readonly WebCheckResult[]): void {
    this.body.replaceChildren();
    this.rows = results.map((r) => {
      const tr = document.createElement('tr');
      for (let i = 0; i < 4; i++) tr.appendChild(document.createElement('td'));
      this.body.appendChild(tr);
      return tr;
    });
    results.forEach((r, i) => this.updateCheck(i, r));
  }

  updateCheck(index: number, r: WebCheckResult): void {
    const tr = this.rows[index];
    if (!tr) return;
    const [name, status, ms, failure] = Array.from(tr.cells);
    tr.className = r.status;
    name.textContent = r.name;
    status.textContent = STATUS_TEXT[r.status];
    ms.textContent = r.ms === null ? '' : r.ms.toFixed(0);
    failure.textContent = r.failure ?? '';
  }

  showStatus(text: string): void {
    this.status.textContent = text;
  }

  /** A page-level error: shown in its own box, never only in the console. */
  showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  /** The closing summary, from the final results. */
  showSummary(res: WebResults): void {
    const passed = res.results.filter((r) => r.status === 'pass').length;
    const failed = res.results.filter((r) => r.status === 'fail').length;
    const secs = res.totalMs === null ? '' : ` in ${(res.totalMs / 1000).toFixed(1)} s`;
    this.showStatus(`${passed} passed, ${failed} failed${secs}`);
    document.body.dataset.outcome = res.error || failed > 0 ? 'fail' : 'pass';
  }
}
