/**
 * The CLI's two output streams. Every line the CLI prints goes through here, so that
 * exiting flushes only the streams a run wrote to: touching `process.stdout` or
 * `process.stderr` creates the stream (for a pipe, Node loads its socket and stream
 * modules, about 4 ms), and a `celery-gen tasks.py -o out.ts` that succeeds prints nothing.
 */
const written = { stdout: false, stderr: false };

export function writeOut(text: string): void {
  written.stdout = true;
  process.stdout.write(text);
}

export function writeErr(text: string): void {
  written.stderr = true;
  process.stderr.write(text);
}

/** For text printed by others (yargs' help and its own messages): both streams are flushed. */
export function printedElsewhere(): void {
  written.stdout = written.stderr = true;
}

/**
 * Exits with `code` once what this run printed is flushed. Left to wind down by itself,
 * the process spends tens of milliseconds on idle-time garbage collection of a heap about
 * to vanish. The exit code is set first, in case a closed stream never calls back.
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  const pending = (['stdout', 'stderr'] as const).filter((s) => written[s]);
  const next = (): void => {
    const stream = pending.shift();
    if (stream === undefined) process.exit(code);
    else process[stream].write('', next);
  };
  next();
}
