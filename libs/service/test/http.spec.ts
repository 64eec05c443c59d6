import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, createServiceHttp, runService, type ServiceHttp } from '../src';

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'debug', destination }) };
}

const open: ServiceHttp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close(100)));
});

async function serve(): Promise<{ http: ServiceHttp; base: string }> {
  const http = createServiceHttp({ name: 'test', logger: memoryLogger().logger });
  open.push(http);
  const { port } = await http.listen(0, '127.0.0.1');
  return { http, base: `http://127.0.0.1:${port}` };
}

describe('service HTTP endpoints', () => {
  it('answers liveness at once, readiness only when started and every check passes', async () => {
    const { http, base } = await serve();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const starting = await fetch(`${base}/readyz`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ status: 'starting' });

    let dbUp = true;
    http.addReadinessCheck('db', () => {
      if (!dbUp) throw new Error('connection refused');
    });
    http.addReadinessCheck('bus', async () => undefined);
    http.setState('ready');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { db: { ok: true }, bus: { ok: true } } });

    dbUp = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'not_ready', checks: { db: { ok: false, error: 'connection refused' }, bus: { ok: true } } });

    http.setState('stopping');
    dbUp = true;
    expect(((await (await fetch(`${base}/readyz`)).json()) as { status: string }).status).toBe('stopping');
  });

  it('fails a readiness check that does not answer in time', async () => {
    const { http, base } = await serve();
    http.addReadinessCheck('storage', () => new Promise(() => undefined), { timeoutMs: 100 });
    http.setState('ready');
    const started = Date.now();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ checks: { storage: { ok: false, error: 'no answer within 100 ms' } } });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('exposes default, request and registered metrics', async () => {
    const { http, base } = await serve();
    await fetch(`${base}/healthz`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('process_cpu_user_seconds_total{service="test"}');
    expect(text).toMatch(/s2g_http_request_duration_seconds_count\{service="test",method="GET",route="\/healthz",status="200"\} 1/);
    expect(http.metrics.getSingleMetric('s2g_http_request_duration_seconds')).toBeDefined();
  });

  it('lets a request in progress finish when closing', async () => {
    const { http, base } = await serve();
    http.app.get('/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 200));
      res.send('done');
    });
    const pending = fetch(`${base}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    const closing = http.close(5000);
    expect(await (await pending).text()).toBe('done');
    await closing;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe('runService', () => {
  it('starts, reports ready, and stops in order on shutdown', async () => {
    const { logger, lines } = memoryLogger();
    const order: string[] = [];
    let signal: AbortSignal | undefined;
    const running = await runService({
      name: 'svc',
      logger,
      http: { port: 0, host: '127.0.0.1' },
      ownProcess: false,
      shutdownTimeoutMs: 1000,
      start(ctx) {
        order.push('start');
        signal = ctx.signal;
        expect(ctx.drainTimeoutMs).toBe(800);
      },
      stop() {
        order.push('stop');
      },
    });
    expect((await fetch(`http://127.0.0.1:${running.port}/readyz`)).status).toBe(200);
    expect(signal?.aborted).toBe(false);
    expect(await running.shutdown('test')).toBe(0);
    expect(await running.shutdown('again')).toBe(0);
    expect(order).toEqual(['start', 'stop']);
    expect(signal?.aborted).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['svc ready', 'svc shutting down', 'svc stopped']));
  });

  it('reports a failing stop with exit code 1', async () => {
    const running = await runService({
      name: 'svc',
      logger: memoryLogger().logger,
      http: { port: 0, host: '127.0.0.1' },
      ownProcess: false,
      start: () => undefined,
      stop: () => {
        throw new Error('could not close');
      },
    });
    expect(await running.shutdown('test')).toBe(1);
  });

  it('rejects and closes the server when start fails', async () => {
    const { logger, lines } = memoryLogger();
    await expect(
      runService({
        name: 'svc',
        logger,
        http: { port: 0, host: '127.0.0.1' },
        ownProcess: false,
        start: () => {
          throw new Error('database unreachable');
        },
      }),
    ).rejects.toThrow('database unreachable');
    expect(lines.find((l) => l.msg === 'svc failed to start')).toMatchObject({ level: 'fatal' });
  });

  it('masks credentials in logs', () => {
    const { logger, lines } = memoryLogger();
    logger.info({ s3: { secretKey: 'abc', bucket: 's2g' }, password: 'pw' }, 'config');
    expect(lines[0]).toMatchObject({ s3: { secretKey: '[redacted]', bucket: 's2g' }, password: '[redacted]' });
  });
});
