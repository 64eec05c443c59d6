import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Child {
  lines: Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function start(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const complete = out.split('\n').slice(0, -1);
    lines.length = 0;
    for (const l of complete) {
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // --help output is plain text
      }
    }
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => child.kill(signal),
    waitForLine(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(predicate);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => setTimeout(check, 0));
        check();
      });
    },
  };
}

describe('a service process', () => {
  it('serves health, finishes in-flight requests on SIGTERM and exits 0', async () => {
    const child = start([], { FIXTURE_STOP_MS: '200' });
    const ready = await child.waitForLine((l) => l.msg === 'fixture ready');
    const base = `http://127.0.0.1:${ready.port as number}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: 'ready', checks: {} });

    const slow = fetch(`${base}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ finished: true });
    const { code, signal } = await child.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Well under the keep-alive timeout (5 s): idle connections must not hold the exit up.
    expect(Date.now() - signalledAt).toBeLessThan(2500);
    const messages = child.lines.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['fixture shutting down', 'fixture stop ran', 'fixture stopped']));
    expect(child.lines.find((l) => l.msg === 'fixture stopped')).toMatchObject({ code: 0, level: 'info', service: 'fixture' });
    // New connections are refused once shutdown began.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('exits 1 when stop overruns the shutdown deadline', async () => {
    const child = start([], { FIXTURE_STOP_MS: '5000', SHUTDOWN_TIMEOUT_MS: '300' });
    await child.waitForLine((l) => l.msg === 'fixture ready');
    child.kill('SIGTERM');
    expect((await child.exited).code).toBe(1);
    expect(child.lines.map((l) => l.msg)).toContain('stop overran the shutdown deadline');
  });

  it('prints usage with every environment variable for --help and exits 0', async () => {
    const child = start(['--help'], {});
    expect((await child.exited).code).toBe(0);
    const out = child.stdout();
    expect(out).toContain('Usage: s2g-fixture');
    expect(out).toContain('A test service.');
    for (const name of ['S2G_MODE', 'NATS_URL', 'DATABASE_URL', 'HTTP_PORT', 'FIXTURE_STOP_MS']) expect(out).toContain(name);
  });

  it('rejects unknown arguments with exit 2', async () => {
    const child = start(['--frobnicate'], {});
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toContain('--frobnicate');
  });

  it('lists every configuration problem and exits 78', async () => {
    const child = start([], { S2G_MODE: 'distributed', HTTP_PORT: 'x' });
    expect((await child.exited).code).toBe(78);
    const err = child.stderr();
    for (const name of ['HTTP_PORT', 'NATS_URL', 'DATABASE_URL', 'S3_ENDPOINT']) expect(err).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });
});
