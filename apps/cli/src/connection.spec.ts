import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlEndpoint, resolveConnection } from './connection';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2g-connection-'));
  await writeFile(join(dir, 'admin.token'), 's2g_from_file\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resolveConnection', () => {
  it('adds /graphql to a base URL only', () => {
    expect(graphqlEndpoint('http://host:8080')).toBe('http://host:8080/graphql');
    expect(graphqlEndpoint('https://s2g.example.com/')).toBe('https://s2g.example.com/graphql');
    expect(graphqlEndpoint('http://host/api/graphql')).toBe('http://host/api/graphql');
  });

  it('takes flags first, then the environment, then the local token file', async () => {
    expect(await resolveConnection({ url: 'http://a:1', token: 't1' }, { S2G_URL: 'http://b:2', S2G_TOKEN: 't2', DATA_DIR: dir })).toEqual({ url: 'http://a:1/graphql', token: 't1', tokenSource: '--token' });
    expect(await resolveConnection({}, { S2G_URL: 'http://b:2', S2G_TOKEN: 't2', DATA_DIR: dir })).toEqual({ url: 'http://b:2/graphql', token: 't2', tokenSource: 'S2G_TOKEN' });
    expect(await resolveConnection({}, { HTTP_PORT: '9090', DATA_DIR: dir })).toEqual({ url: 'http://localhost:9090/graphql', token: 's2g_from_file', tokenSource: join(dir, 'admin.token') });
    expect(await resolveConnection({}, { DATA_DIR: join(dir, 'none') })).toEqual({ url: 'http://localhost:8080/graphql', token: null, tokenSource: null });
  });
});
