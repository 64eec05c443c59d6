import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDockerfile, parseDockerfile, type DockerfileOptions } from '../src/dockerfile';
import { DockerIgnore } from '../src/dockerignore';
import { APPS, INFRA, REPO } from './helpers';

const DOCKER = path.join(INFRA, 'docker');
const images = [
  { file: 'Dockerfile', apps: APPS },
  { file: 'Dockerfile.gpu', apps: ['trainer', 'inference'] as const },
];

function options(file: string, apps: readonly string[]): DockerfileOptions {
  return { contextDir: REPO, ignore: new DockerIgnore(readFileSync(path.join(DOCKER, `${file}.dockerignore`), 'utf8')), apps, file };
}

function read(file: string): string {
  return readFileSync(path.join(DOCKER, file), 'utf8');
}

function rules(text: string, file = 'Dockerfile', apps: readonly string[] = APPS): string[] {
  return [...new Set(checkDockerfile(text, options(file, apps)).map((v) => v.rule))];
}

describe.each(images)('$file', ({ file, apps }) => {
  const text = read(file);

  it('passes every check for each APP it builds', () => {
    expect(checkDockerfile(text, options(file, apps))).toEqual([]);
  });

  it('refuses an APP it has no stage for', () => {
    expect(rules(text, file, ['dashboard'])).toEqual(['app-stage']);
  });

  it('runs the selected app as uid 10001 through tini, with node as the command', () => {
    const df = parseDockerfile(text);
    const all = df.stages.flatMap((s) => s.instructions);
    expect(all.filter((i) => i.keyword === 'USER').map((i) => i.args)).toEqual(['10001:10001']);
    expect(all.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["/usr/bin/tini", "--"]');
    for (const app of apps) {
      const stage = df.stages.find((s) => s.name?.endsWith(`-${app}`));
      expect(stage?.instructions.map((i) => `${i.keyword} ${i.args}`)).toEqual([`CMD ["node", "dist/apps/${app}/main.js"]`]);
    }
  });

  it('has its own dockerignore that keeps secrets and bulky folders out of the context', () => {
    const ignore = new DockerIgnore(read(`${file}.dockerignore`));
    for (const excluded of ['node_modules/x/index.js', 'libs/db/node_modules/y', '.git/HEAD', 'dist/apps/gateway/main.js', 'infra/.env', 'infra/k8s/overlays/dev/secrets.env', '.env', 'infra/k8s/base/gateway.yaml']) {
      expect(ignore.excludes(excluded), excluded).toBe(true);
    }
    for (const included of ['package.json', 'package-lock.json', 'apps/gateway/src/main.ts', 'libs/config/package.json', 'tools/build-app.mjs', 'infra/docker/healthcheck.cjs']) {
      expect(ignore.excludes(included), included).toBe(false);
    }
  });
});

describe('Dockerfile checker', () => {
  const good = read('Dockerfile');

  it.each([
    ['a shell-form CMD', (t: string) => t.replace('CMD ["node", "dist/apps/ingest/main.js"]', 'CMD node dist/apps/ingest/main.js'), 'cmd'],
    ['a variable in an exec-form CMD', (t: string) => t.replace('CMD ["node", "dist/apps/ingest/main.js"]', 'CMD ["node", "dist/apps/${APP}/main.js"]'), 'cmd'],
    ['a CMD starting another app', (t: string) => t.replace('CMD ["node", "dist/apps/ingest/main.js"]', 'CMD ["node", "dist/apps/gateway/main.js"]'), 'cmd'],
    ['running as root', (t: string) => t.replace('USER 10001:10001', 'USER root'), 'user'],
    ['a named user', (t: string) => t.replace('USER 10001:10001', 'USER s2g'), 'user'],
    ['no USER at all', (t: string) => t.replace('USER 10001:10001\n', ''), 'user'],
    ['no HEALTHCHECK', (t: string) => t.replace(/^HEALTHCHECK .*\n/m, ''), 'healthcheck'],
    ['a COPY of a file that does not exist', (t: string) => t.replace('COPY tools tools', 'COPY tool tools'), 'copy-source'],
    ['a COPY of a path the dockerignore drops', (t: string) => t.replace('COPY tools tools', 'COPY tools tools\nCOPY infra/k8s /k8s'), 'copy-source'],
    ['a COPY from an unknown stage', (t: string) => t.replace('COPY --from=prod-deps /app/node_modules', 'COPY --from=deps /app/node_modules'), 'copy-from'],
    ['a bundle path the build does not produce', (t: string) => t.replace('COPY --from=build /app/dist/apps/${APP} ./dist/apps/${APP}', 'COPY --from=build /app/dist/apps/${APP}-bundle ./dist/apps/${APP}'), 'build-output'],
    ['a build-arg used without its ARG line', (t: string) => t.replace('FROM ${NODE_IMAGE} AS runtime\nARG APP\n', 'FROM ${NODE_IMAGE} AS runtime\n'), 'copy-source'],
    ['a latest base image', (t: string) => t.replace('ARG NODE_IMAGE=node:20-bookworm-slim', 'ARG NODE_IMAGE=node:latest'), 'base-pinned'],
    ['an untagged base image', (t: string) => t.replace('ARG NODE_IMAGE=node:20-bookworm-slim', 'ARG NODE_IMAGE=node'), 'base-pinned'],
  ])('flags %s', (_, breakIt, rule) => {
    const broken = breakIt(good);
    expect(broken).not.toBe(good);
    expect(rules(broken)).toContain(rule);
  });

  it('reads line continuations, JSON-form COPY and comments', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1\nARG A=1\nFROM x:1 AS one\nRUN a \\\n  # note\n  && b\nCOPY ["a b", "c"]\n');
    expect([...df.globalArgs]).toEqual([['A', '1']]);
    expect(df.stages[0].instructions.map((i) => [i.keyword, i.args])).toEqual([
      ['RUN', 'a && b'],
      ['COPY', '["a b", "c"]'],
    ]);
  });
});

describe('dockerignore matching', () => {
  it('follows BuildKit semantics: parents exclude children, later ! patterns re-include, ** spans folders', () => {
    const ignore = new DockerIgnore('# c\n/dist\n**/*.log\ninfra\n!infra/docker/keep.txt\nsecret?.txt\n');
    expect(ignore.excludes('dist/a/b.js')).toBe(true);
    expect(ignore.excludes('libs/x/dist/a.js')).toBe(false);
    expect(ignore.excludes('a/b/c.log')).toBe(true);
    expect(ignore.excludes('c.log')).toBe(true);
    expect(ignore.excludes('infra/docker/Dockerfile')).toBe(true);
    expect(ignore.excludes('infra/docker/keep.txt')).toBe(false);
    expect(ignore.excludes('secret1.txt')).toBe(true);
    expect(ignore.excludes('secret12.txt')).toBe(false);
  });
});

describe('healthcheck.cjs (the image HEALTHCHECK and compose healthcheck)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : req.url === '/readyz' ? 503 : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function probe(args: string[], httpPort: number): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(DOCKER, 'healthcheck.cjs'), ...args], { env: { ...process.env, HTTP_PORT: String(httpPort) }, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
  }

  it('exits 0 when the endpoint answers 2xx, 1 otherwise, and 1 when nothing listens', async () => {
    expect(await probe([], port)).toBe(0);
    expect(await probe(['/readyz'], port)).toBe(1);
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const closedPort = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));
    expect(await probe([], closedPort)).toBe(1);
  });
});
