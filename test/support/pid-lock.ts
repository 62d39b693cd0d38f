/**
 * A machine-wide lock between test runs: a file holding the holder's pid, created with
 * O_EXCL; a dead holder's lock is taken over, and the lock is released when this process
 * exits. For resources every run on the machine shares (the test Redis databases, the
 * RabbitMQ a fault test restarts).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `path`, polling every `pollMs`; `taken` is false when another run still holds it after `timeoutMs`. */
export async function takePidLock(path: string, timeoutMs: number, pollMs: number): Promise<{ taken: boolean; holder: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      process.once('exit', () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch (error) {
          process.stderr.write(`# could not release ${path}: ${String(error)}\n`);
        }
      });
      return { taken: true, holder: process.pid };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      continue;
    }
    if (Date.now() > deadline) return { taken: false, holder };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
