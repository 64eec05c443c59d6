/**
 * An app's built entry point as it runs in production: bundled, started as a child process with
 * only the environment it is given, probed while it runs, stopped with SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures';

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from SIGTERM to exit, when `whileRunning` was given. */
  stopMs?: number;
}

/** Bundles apps/<app> to dist/apps/<app>/main.js (tools/build-app.mjs). */
export async function buildApp(app: string): Promise<string> {
  const root = repoRoot();
  await promisify(execFile)(process.execPath, ['tools/build-app.mjs', app], { cwd: root });
  return join(root, 'dist/apps', app, 'main.js');
}

export interface RunAppOptions {
  app: string;
  args?: string[];
  env?: Record<string, string>;
  dataDir: string;
  /** Runs once the app logs `<app> ready` (given its port); SIGTERM is sent when it settles. */
  whileRunning?: (ready: { port: number }) => Promise<void>;
  timeoutMs?: number;
}

/** Runs the built app to completion, or until `whileRunning` has finished and SIGTERM was sent. */
export function runApp(options: RunAppOptions): Promise<AppRun> {
  const { app, whileRunning } = options;
  const entry = join(repoRoot(), 'dist/apps', app, 'main.js');
  const readyMark = `"msg":"${app} ready"`;
  const child = spawn(process.execPath, [entry, ...(options.args ?? [])], {
    env: { PATH: process.env['PATH'], DATA_DIR: options.dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let stoppedAt: number | undefined;
  let failure: unknown;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    const before = stdout;
    stdout += c.toString();
    if (!whileRunning || before.includes(readyMark)) return;
    const line = stdout.split('\n').find((l) => l.includes(readyMark));
    if (!line) return;
    const ready = JSON.parse(line) as { port: number };
    void whileRunning(ready)
      .catch((e: unknown) => (failure = e))
      .finally(() => {
        stoppedAt = Date.now();
        child.kill('SIGTERM');
      });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not exit; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure instanceof Error ? failure : new Error(String(failure)));
      else resolve({ code, stdout, stderr, ...(stoppedAt ? { stopMs: Date.now() - stoppedAt } : {}) });
    });
  });
}
