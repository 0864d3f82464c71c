/** Progress lines on stderr, with elapsed time, so a long run shows where it is. */
export class Progress {
  readonly #started = performance.now();
  constructor(readonly quiet = false) {}
  step(message: string): void {
    if (this.quiet) return;
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${seconds}s] ${message}\n`);
  }
}
