import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  readonly path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  cleanup(): Promise<void>;
}

const live = new Set<string>();
let exitHookInstalled = false;

/** Last resort for folders a failed test never cleaned: removed synchronously when the process exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const path of live) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // Exit hooks cannot report anything useful; the OS temp folder is cleaned eventually.
      }
    }
  });
}

/** A fresh folder under the OS temp dir, named `s2g-<prefix>-XXXXXX`. */
export async function tempDir(prefix: string): Promise<TempDir> {
  const safe = prefix.replace(/[^a-zA-Z0-9_-]/g, '-');
  const path = await mkdtemp(join(tmpdir(), `s2g-${safe}-`));
  live.add(path);
  installExitHook();
  return {
    path,
    async cleanup() {
      live.delete(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}
