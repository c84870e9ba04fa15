// A progress bar on stderr, only when stdout and stderr are both a terminal and
// the output is not JSON: long work shows where it is, scripts and pipes see
// nothing (and a trace written to a terminal is not drawn over).

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

const quiet: Progress = { update() {}, done() {} };

export function progressBar(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY || !process.stdout.isTTY) return quiet;
  let last = 0;
  let shown = false;
  const width = 30;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(frac * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}`);
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[K");
    },
  };
}
