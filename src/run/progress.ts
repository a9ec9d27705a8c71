// Progress for long runs: a cli-progress bar with it/s, loss and test accuracy on a
// terminal; on a pipe (CI, logs) a plain line every 10% instead of carriage returns.
import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly t0 = performance.now();
  private nextLine: number;
  private acc = '';

  constructor(private readonly total: number, private readonly start: number, enabled: boolean) {
    const tty = enabled && !!process.stdout.isTTY;
    this.bar = tty
      ? new cliProgress.SingleBar({
          format: 'train |{bar}| {value}/{total} it | {speed} it/s | loss {loss} | test acc {acc} | eta {eta_formatted}',
          hideCursor: true,
          barsize: 30,
        }, cliProgress.Presets.shades_classic)
      : null;
    this.bar?.start(total, start, { speed: '-', loss: '-', acc: '-' });
    this.nextLine = enabled && !tty ? start + Math.max(1, Math.floor(total / 10)) : Infinity;
  }

  update(done: number, loss: number, testAcc?: number): void {
    const speed = (done - this.start) / ((performance.now() - this.t0) / 1000);
    if (testAcc !== undefined) this.acc = `${(100 * testAcc).toFixed(2)}%`;
    this.bar?.update(done, { speed: speed.toFixed(1), loss: loss.toFixed(4), acc: this.acc || '-' });
    if (done >= this.nextLine || (done === this.total && this.nextLine !== Infinity)) {
      console.log(`  iter ${done}/${this.total}  ${speed.toFixed(1)} it/s  loss ${loss.toFixed(4)}${this.acc ? `  test acc ${this.acc}` : ''}`);
      this.nextLine = done + Math.max(1, Math.floor(this.total / 10));
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
