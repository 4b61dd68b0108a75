/**
 * Progress on long steps (snapshot, each down migration) for a person at a terminal: one line
 * redrawn in place with a spinner and the elapsed time when stderr is a TTY, plain lines
 * otherwise (CI logs, pipes). Results go to stdout; progress always goes to stderr, so
 * `--json` output stays parseable.
 */
export interface Progress {
  /** A line that stays (an event: "snapshot available", "step 1/2 done"). */
  line(text: string): void;
  /** What is happening now; redrawn with a spinner on a TTY, printed once otherwise. */
  status(text: string): void;
  /** Clears the status line. */
  done(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A terminal shows names as they are: Markdown code spans (from the timeline's words) lose their backticks. */
export const plainTerminalText = (text: string): string => text.replace(/`([^`\n]*)`/g, '$1');

/** Progress on `stream` (default stderr); `quiet` prints nothing (`--json`). */
export function createProgress(
  options: { stream?: { write(text: string): unknown; isTTY?: boolean }; quiet?: boolean } = {},
): Progress {
  const out = options.stream ?? process.stderr;
  const stream = { isTTY: out.isTTY, write: (text: string) => out.write(plainTerminalText(text)) };
  if (options.quiet) return { line: () => undefined, status: () => undefined, done: () => undefined };
  if (!stream.isTTY) {
    let last = '';
    return {
      line: (text) => void stream.write(`${text}\n`),
      status: (text) => {
        if (text !== last) stream.write(`… ${text}\n`);
        last = text;
      },
      done: () => undefined,
    };
  }
  let current = '';
  let since = Date.now();
  let frame = 0;
  let timer: NodeJS.Timeout | null = null;
  const draw = (): void => {
    const secs = Math.round((Date.now() - since) / 1000);
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current} (${secs} s)`);
  };
  const clear = (): void => void stream.write('\r\x1b[2K');
  return {
    line(text) {
      clear();
      stream.write(`${text}\n`);
      if (current) draw();
    },
    status(text) {
      if (text !== current) since = Date.now();
      current = text;
      timer ??= setInterval(draw, 100);
      timer.unref();
      draw();
    },
    done() {
      if (timer) clearInterval(timer);
      timer = null;
      current = '';
      clear();
    },
  };
}
