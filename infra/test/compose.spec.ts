import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCompose, durationMs, parseCompose } from '../src/compose';
import { isObject, type JsonObject } from '../src/patch';
import { APPS, at, INFRA } from './helpers';

const text = readFileSync(path.join(INFRA, 'compose.yaml'), 'utf8');

function compose(): JsonObject {
  return parseCompose(text);
}

function rules(doc: JsonObject): string[] {
  return [...new Set(checkCompose(doc).map((v) => v.rule))];
}

describe('compose.yaml', () => {
  it('meets the compose policy', () => {
    expect(checkCompose(compose())).toEqual([]);
  });

  it('runs NATS with JetStream on a volume, MinIO with a bucket job, Postgres 16, the migration and the five apps', () => {
    const services = at(compose(), 'services');
    expect(Object.keys(services).sort()).toEqual(['gateway', 'inference', 'ingest', 'migrate', 'minio', 'minio-create-bucket', 'nats', 'postgres', 'renderer', 'trainer']);
    expect(at(services, 'nats')['image']).toMatch(/^nats:2\.10\./);
    expect(at(services, 'postgres')['image']).toMatch(/^postgres:16\./);
    expect(at(services, 'migrate')['command']).toEqual(['node', 'dist/apps/gateway/main.js', 'migrate']);
    expect(at(services, 'migrate.depends_on.postgres')['condition']).toBe('service_healthy');
    for (const app of APPS) {
      const service = at(services, app);
      expect(at(service, 'environment')).toMatchObject({ S2G_MODE: 'distributed', NATS_URL: 'nats://nats:4222', S3_ENDPOINT: 'http://minio:9000', HTTP_PORT: '8080' });
      expect(at(service, 'depends_on')).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        nats: { condition: 'service_healthy' },
        'minio-create-bucket': { condition: 'service_completed_successfully' },
      });
      expect(at(service, 'healthcheck')['test']).toEqual(['CMD', 'node', '/app/healthcheck.cjs', '/readyz']);
    }
  });

  it('publishes only the gateway, on loopback unless told otherwise', () => {
    const services = at(compose(), 'services');
    const published = Object.entries(services).filter(([, s]) => isObject(s) && s['ports'] !== undefined).map(([name]) => name);
    expect(published).toEqual(['gateway']);
    expect(at(services, 'gateway.ports.0')).toMatchObject({ target: 8080, host_ip: '${S2G_BIND_ADDRESS:-127.0.0.1}' });
  });

  it.each([
    ['a published worker port', (d: JsonObject) => void (at(d, 'services.ingest')['ports'] = ['9000:9000']), 'ports'],
    ['a latest tag', (d: JsonObject) => void (at(d, 'services.postgres')['image'] = 'postgres:latest'), 'image-pinned'],
    ['an untagged image', (d: JsonObject) => void (at(d, 'services.nats')['image'] = 'nats'), 'image-pinned'],
    ['a missing healthcheck', (d: JsonObject) => void delete at(d, 'services.minio')['healthcheck'], 'healthcheck'],
    ['short-form depends_on', (d: JsonObject) => void (at(d, 'services.gateway')['depends_on'] = ['migrate']), 'depends-on'],
    ['starting before the migration finished', (d: JsonObject) => void (at(d, 'services.renderer.depends_on.migrate')['condition'] = 'service_started'), 'depends-on'],
    ['a password written into the file', (d: JsonObject) => void (at(d, 'services.postgres.environment')['POSTGRES_PASSWORD'] = 'hunter2'), 'secrets'],
    ['a missing app', (d: JsonObject) => void delete at(d, 'services')['trainer'], 'services'],
    ['NATS without JetStream', (d: JsonObject) => void (at(d, 'services.nats')['command'] = ['-m', '8222']), 'nats'],
    ['Postgres without a volume', (d: JsonObject) => void delete at(d, 'services.postgres')['volumes'], 'persistence'],
    ['an app built with the wrong APP', (d: JsonObject) => void (at(d, 'services.inference.build.args')['APP'] = 'trainer'), 'build'],
    ['the default 10 s stop grace period', (d: JsonObject) => void delete at(d, 'services.ingest')['stop_grace_period'], 'shutdown'],
    ['an app without S2G_MODE', (d: JsonObject) => void (at(d, 'services.ingest')['environment'] = {}), 'app-env'],
  ])('flags %s', (_, breakIt, rule) => {
    const doc = compose();
    breakIt(doc);
    expect(rules(doc)).toContain(rule);
  });

  it('reads compose durations', () => {
    expect([durationMs('30s'), durationMs('2m'), durationMs('1m30s'), durationMs('500ms'), durationMs('soon'), durationMs(30)]).toEqual([30_000, 120_000, 90_000, 500, undefined, undefined]);
  });

  it('takes every credential from infra/.env, failing fast when it is missing', () => {
    const credentials = text.match(/(PASSWORD|SECRET_KEY|ACCESS_KEY): .*/g) ?? [];
    expect(credentials.length).toBeGreaterThan(4);
    for (const line of credentials) expect(line).toMatch(/\$\{[A-Z0-9_]+:\?/);
  });
});
