/** Policy for infra/compose.yaml: the one-host distributed setup. */
import { parse } from 'yaml';
import { asArray, parseImage } from './objects';
import { isObject, type Json, type JsonObject } from './patch';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, type Violation } from './policy';

export interface ComposeOptions {
  apps: readonly string[];
  /** The only service allowed to publish ports. */
  exposed: string;
  /** Backing services that must exist, each with a healthcheck and a named data volume. */
  backing: readonly string[];
  /** Services that run to completion; others depend on them with service_completed_successfully. */
  oneShots: readonly string[];
  /** Environment every app (and the migration) must get. */
  appEnv: readonly string[];
}

export const S2G_COMPOSE: ComposeOptions = {
  apps: ['gateway', 'ingest', 'trainer', 'inference', 'renderer'],
  exposed: 'gateway',
  backing: ['nats', 'minio', 'postgres'],
  oneShots: ['migrate', 'minio-create-bucket'],
  appEnv: ['S2G_MODE', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_BUCKET', 'S3_REGION', 'HTTP_PORT', 'FFMPEG_PATH', 'FFPROBE_PATH'],
};

/** Parses a compose file, resolving YAML anchors and `<<` merge keys as compose does. */
export function parseCompose(text: string): JsonObject {
  const doc: unknown = parse(text, { merge: true });
  if (!isObject(doc)) throw new Error('a compose file must be a mapping');
  return doc;
}

function environment(service: JsonObject): Record<string, string> {
  const env = service['environment'];
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map(String).map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
  }
  if (isObject(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
  return {};
}

/** A compose duration ("30s", "2m", "1m30s") in milliseconds. */
export function durationMs(value: Json | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = [...value.matchAll(/([0-9.]+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

/** Values that must come from the (uncommitted) .env file, never be written in the compose file. */
const SECRET_KEY = /PASSWORD|SECRET|ACCESS_KEY/;

export function checkCompose(doc: JsonObject, options: ComposeOptions = S2G_COMPOSE): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, service: string, message: string): void => {
    found.push({ rule, object: `service/${service}`, message });
  };
  const services = isObject(doc['services']) ? doc['services'] : {};
  const volumes = isObject(doc['volumes']) ? Object.keys(doc['volumes']) : [];
  const hasHealthcheck = (s: Json | undefined): boolean => {
    if (!isObject(s) || !isObject(s['healthcheck'])) return false;
    const test = s['healthcheck']['test'];
    return s['healthcheck']['disable'] !== true && Array.isArray(test) && (test[0] === 'CMD' || test[0] === 'CMD-SHELL') && test.length > 1;
  };

  for (const name of [...options.backing, ...options.oneShots, ...options.apps]) {
    if (!isObject(services[name])) add('services', name, 'is missing');
  }

  for (const [name, value] of Object.entries(services)) {
    if (!isObject(value)) continue;
    const service = value;
    const oneShot = options.oneShots.includes(name);
    const app = options.apps.includes(name);

    const image = service['image'];
    if (typeof image !== 'string') add('image-pinned', name, 'has no image');
    else {
      const ref = parseImage(image);
      if (!ref.tag && !ref.digest) add('image-pinned', name, `image ${image} has no tag`);
      if (ref.tag === 'latest') add('image-pinned', name, `image ${image} uses the latest tag`);
    }

    if (!oneShot && !hasHealthcheck(service)) add('healthcheck', name, 'has no healthcheck');
    if (oneShot && service['restart'] !== 'no') add('healthcheck', name, 'is a one-shot and must not restart');

    const dependsOn = service['depends_on'];
    if (Array.isArray(dependsOn)) add('depends-on', name, 'depends_on must use the long form with a condition');
    else if (isObject(dependsOn)) {
      for (const [dep, spec] of Object.entries(dependsOn)) {
        const condition = isObject(spec) ? spec['condition'] : undefined;
        if (!isObject(services[dep])) add('depends-on', name, `depends on unknown service ${dep}`);
        else if (options.oneShots.includes(dep)) {
          if (condition !== 'service_completed_successfully') add('depends-on', name, `must wait for ${dep} with service_completed_successfully`);
        } else if (condition !== 'service_healthy') add('depends-on', name, `must wait for ${dep} with service_healthy`);
        if (condition === 'service_healthy' && !hasHealthcheck(services[dep])) add('depends-on', name, `waits for ${dep} to be healthy, but it has no healthcheck`);
      }
    }

    if (service['ports'] !== undefined && asArray(service['ports']).length > 0 && name !== options.exposed) add('ports', name, `publishes ports; only ${options.exposed} may`);
    if (service['network_mode'] === 'host') add('ports', name, 'uses the host network');
    if (service['privileged'] === true) add('security', name, 'is privileged');

    const env = environment(service);
    for (const [key, val] of Object.entries(env)) {
      if (SECRET_KEY.test(key) && !/^\$\{[A-Z0-9_]+(:?[?-][^}]*)?\}$/.test(val)) add('secrets', name, `${key} is written in the file; take it from infra/.env as \${${key}...}`);
    }
    if (env['DATABASE_URL'] !== undefined && !/:\$\{[A-Z0-9_]+[^}]*\}@/.test(env['DATABASE_URL'])) add('secrets', name, 'DATABASE_URL must take its password from infra/.env');

    if (app || name === 'migrate') {
      for (const key of options.appEnv) if (!(key in env)) add('app-env', name, `lacks ${key}`);
      if (env['S2G_MODE'] !== 'distributed') add('app-env', name, 'S2G_MODE must be distributed');
      if (service['read_only'] !== true) add('security', name, 'should run with a read-only root filesystem');
      const build = service['build'];
      const appName = app ? name : options.exposed;
      if (!isObject(build) || build['dockerfile'] !== 'infra/docker/Dockerfile' || !isObject(build['args']) || build['args']['APP'] !== appName) {
        add('build', name, `must build infra/docker/Dockerfile with APP=${appName}`);
      }
      if (app) {
        const shutdownMs = env['SHUTDOWN_TIMEOUT_MS'] === undefined ? DEFAULT_SHUTDOWN_TIMEOUT_MS : Number(env['SHUTDOWN_TIMEOUT_MS']);
        const graceMs = durationMs(service['stop_grace_period']) ?? 10_000;
        if (!(shutdownMs < graceMs)) add('shutdown', name, `stop_grace_period must exceed SHUTDOWN_TIMEOUT_MS (${shutdownMs} ms), or docker kills the app mid-shutdown`);
      }
      if (typeof image === 'string' && parseImage(image).name !== `ghcr.io/s2g/${appName}`) add('build', name, `image must be ghcr.io/s2g/${appName}`);
    }

    if (options.backing.includes(name)) {
      const mounts = asArray(service['volumes']).map((v) => (typeof v === 'string' ? v.split(':')[0] : isObject(v) ? String(v['source']) : ''));
      if (!mounts.some((m) => volumes.includes(m))) add('persistence', name, 'keeps its data outside a named volume');
    }
  }

  const nats = services['nats'];
  if (isObject(nats)) {
    const command = asArray(nats['command']).map(String);
    if (!command.includes('-js') || !command.includes('-sd')) add('nats', 'nats', 'must run with JetStream (-js) and a store directory (-sd)');
  }
  return found;
}
