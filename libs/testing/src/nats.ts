/**
 * A NATS server with JetStream for tests: the one named by NATS_URL, or a private `nats-server` started
 * from PATH on a free port with a temporary store. Never skips: without either, it throws.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './ports';
import { tempDir } from './temp';

export interface TestNats {
  url: string;
  /** Stops the server this helper started (a server given by NATS_URL is left alone). */
  stop(): Promise<void>;
}

/** Resolves once the server accepts a connection and answers JetStream requests. */
async function waitForJetStream(url: string, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(why);
    try {
      const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`NATS at ${url} did not accept JetStream requests within ${timeoutMs} ms: ${String(last)}`);
}

export async function testNats(): Promise<TestNats> {
  const given = process.env.NATS_URL;
  if (given) {
    try {
      await waitForJetStream(given, 5000, () => null);
    } catch (e) {
      throw new Error(`NATS_URL=${given} is set but not usable with JetStream: ${(e as Error).message}`, { cause: e });
    }
    return { url: given, stop: async () => undefined };
  }

  const port = await freePort();
  const store = await tempDir('nats');
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess;
  let exitReason: string | null = null;
  let stderr = '';
  try {
    child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store.path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    await store.cleanup();
    throw new Error(`No NATS for tests: NATS_URL is not set and nats-server could not be started (${String(e)})`, { cause: e });
  }
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.once('error', (e) => {
    exitReason = `No NATS for tests: NATS_URL is not set and nats-server could not be started (${e.message}); install it (apt-get install nats-server) or set NATS_URL`;
  });
  child.once('exit', (code, signal) => {
    exitReason ??= `nats-server exited (${signal ?? code}) before accepting connections: ${stderr.trim()}`;
  });
  const stop = async (): Promise<void> => {
    // No pid: the spawn itself failed, there is nothing to stop.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await store.cleanup();
  };
  try {
    await waitForJetStream(url, 10_000, () => exitReason);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop };
}
