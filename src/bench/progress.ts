/**
 * Progress on stderr: a cli-progress bar when stderr is a terminal, one plain line per step
 * otherwise (CI logs, pipes, tests), so the output is readable either way.
 */
import { SingleBar } from 'cli-progress';
import type { BenchProgress } from './runner.ts';

export function barProgress(stream: NodeJS.WriteStream = process.stderr): BenchProgress {
  const bar = new SingleBar({
    stream,
    format: ' {bar} {value}/{total} {label}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 20,
  });
  let done = 0;
  let total = 0;
  return {
    start(t) {
      total = t;
      bar.start(t, 0, { label: '' });
    },
    step(label) {
      done++;
      // The total is an estimate (an instance's method list is known only after parsing it).
      if (done > total) {
        total = done;
        bar.setTotal(total);
      }
      bar.update(done, { label });
    },
    stop() {
      bar.stop();
    },
  };
}

export function lineProgress(write: (text: string) => void): BenchProgress {
  let done = 0;
  let total = 0;
  return {
    start(t) {
      total = t;
    },
    step(label) {
      done++;
      write(`[${done}/${Math.max(done, total)}] ${label}\n`);
    },
    stop() {},
  };
}
