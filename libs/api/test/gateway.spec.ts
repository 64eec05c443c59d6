/**
 * The gateway over HTTP against a real Postgres, the filesystem store (served at /files) and the
 * in-process bus: requests and their commands, reads, auth scopes, every error code, limits, CSRF,
 * and the operational endpoints.
 */
import { type CommandName, ErrorCode, type Payload, TRAINING_DEFAULTS } from '@s2g/contracts';
import { type CommandContext } from '@s2g/messaging';
import { tempDir, type TempDir, testPostgres, type TestPostgres } from '@s2g/testing';
import { getIntrospectionQuery } from '../src/graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedCompletedResult, seedCompletedRun, seedSpeaker } from './fixtures';
import { eventually, must, startTestGateway, type TestGateway } from './gateway';

let pg: TestPostgres;
let dir: TempDir;
let gw: TestGateway;
const UPLOAD_MAX = 64 * 1024;

/** Commands published so far, by subject, as a worker receives them. */
const received: { name: CommandName; payload: unknown; ctx: CommandContext }[] = [];

function commandsOf<N extends CommandName>(name: N): { payload: Payload<N>; ctx: CommandContext }[] {
  return received.filter((c) => c.name === name) as unknown as { payload: Payload<N>; ctx: CommandContext }[];
}

function codeOf(res: { errors?: { extensions?: Record<string, unknown> }[] }): unknown {
  return res.errors?.[0]?.extensions?.['code'];
}

beforeAll(async () => {
  pg = await testPostgres();
  dir = await tempDir('api-gw');
  gw = await startTestGateway({ databaseUrl: await pg.createDatabase('api_gateway'), dataDir: dir.path, env: { UPLOAD_MAX_BYTES: String(UPLOAD_MAX) } });
  for (const name of ['s2g.ingest.requested', 's2g.training.requested', 's2g.training.cancel', 's2g.inference.requested', 's2g.render.requested'] as const) {
    await gw.platform.bus.consumeCommands(name, 'test-worker', (payload, ctx) => {
      received.push({ name, payload, ctx });
    });
  }
});

afterAll(async () => {
  await gw?.close();
  await pg?.stop();
  await dir?.cleanup();
});

const CREATE_SPEAKER = `mutation($name: String!, $displayName: String) { createSpeaker(input: { name: $name, displayName: $displayName }) { id name displayName hours sampleCounts { train dev test total } normalisation { poseMean } } }`;

describe('operations', () => {
  it('serves /healthz, /readyz with database, bus and storage checks, and /metrics with GraphQL counts', async () => {
    expect((await fetch(`${gw.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: { ok: true }, bus: { ok: true }, storage: { ok: true } } });
    await gw.request('{ viewer { tokenName } }');
    const metrics = await (await fetch(`${gw.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/s2g_graphql_operations_total\{[^}]*type="query",field="viewer",code="OK"[^}]*\} [1-9]/);
    expect(metrics).toContain('s2g_graphql_operation_duration_seconds_bucket');
    expect(metrics).toContain('s2g_graphql_subscriptions_active');
  });

  it('answers with an x-request-id header, echoing a well-formed one', async () => {
    const res = await gw.request('{ viewer { tokenName } }', {}, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect((await gw.request('{ viewer { tokenName } }')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('authentication and scopes', () => {
  it('wrote a working local admin token file under DATA_DIR', async () => {
    expect(gw.adminToken).toMatch(/^s2g_[A-Za-z0-9_-]{43}$/);
    const res = await gw.request<{ viewer: { tokenName: string; scopes: string[] } }>('{ viewer { tokenName scopes } }');
    expect(res.data?.viewer).toEqual({ tokenName: 'local-admin', scopes: ['admin'] });
  });

  it('refuses queries without a token (UNAUTHENTICATED) but lets introspection through', async () => {
    const res = await gw.request('{ speakers { totalCount } }', {}, { token: null });
    expect(codeOf(res)).toBe(ErrorCode.UNAUTHENTICATED);
    expect(res.data).toBeNull();
    const intro = await gw.request<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }', {}, { token: null });
    expect(intro.data?.__schema.queryType.name).toBe('Query');
  });

  it('refuses unknown, malformed and revoked tokens with HTTP 401', async () => {
    const unknown = await gw.request('{ speakers { totalCount } }', {}, { token: `s2g_${'A'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(codeOf(unknown)).toBe(ErrorCode.UNAUTHENTICATED);
    const malformed = await gw.request('{ speakers { totalCount } }', {}, { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(malformed.status).toBe(401);
    expect(codeOf(malformed)).toBe(ErrorCode.UNAUTHENTICATED);

    const created = await gw.request<{ createToken: { token: string; apiToken: { id: string } } }>(
      'mutation { createToken(input: { name: "short-lived", scopes: [read] }) { token apiToken { id name scopes } } }',
    );
    const { token, apiToken } = must(created.data).createToken;
    expect((await gw.request('{ speakers { totalCount } }', {}, { token })).errors).toBeUndefined();
    const revoked = await gw.request<{ revokeToken: boolean }>('mutation($id: ID!) { revokeToken(id: $id) }', { id: apiToken.id });
    expect(revoked.data?.revokeToken).toBe(true);
    const after = await gw.request('{ speakers { totalCount } }', {}, { token });
    expect(after.status).toBe(401);
    expect(codeOf(after)).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it('stores only a hash of each token', async () => {
    const token = await gw.token(['read'], 'hash-check');
    const rows = (await gw.platform.dataSource.query('SELECT hash FROM api_tokens WHERE name = $1', ['hash-check'])) as { hash: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].hash).not.toContain(token.slice(4));
  });

  it('lets a read token query but not mutate (FORBIDDEN), a write token mutate but not manage tokens', async () => {
    const read = await gw.token(['read']);
    expect((await gw.request('{ speakers { totalCount } }', {}, { token: read })).errors).toBeUndefined();
    const mutation = await gw.request(CREATE_SPEAKER, { name: 'read-only-attempt' }, { token: read });
    expect(codeOf(mutation)).toBe(ErrorCode.FORBIDDEN);
    expect(await gw.platform.db.speakers.findByName('read-only-attempt')).toBeNull();

    const write = await gw.token(['write']);
    expect((await gw.request(CREATE_SPEAKER, { name: 'written-by-write' }, { token: write })).errors).toBeUndefined();
    expect(codeOf(await gw.request('{ tokens { id } }', {}, { token: write }))).toBe(ErrorCode.FORBIDDEN);
    expect(codeOf(await gw.request('mutation { createToken(input: { name: "x", scopes: [admin] }) { token } }', {}, { token: write }))).toBe(ErrorCode.FORBIDDEN);
    const list = await gw.request<{ tokens: { name: string }[] }>('{ tokens { name scopes lastUsedAt } }');
    expect(list.data?.tokens.map((t) => t.name)).toContain('local-admin');
  });
});

describe('speakers and reads', () => {
  it('creates a speaker; the same name again is a CONFLICT, a bad name BAD_USER_INPUT', async () => {
    const res = await gw.request<{ createSpeaker: Record<string, unknown> }>(CREATE_SPEAKER, { name: 'oliver', displayName: 'John Oliver' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.createSpeaker).toMatchObject({ name: 'oliver', displayName: 'John Oliver', hours: 0, sampleCounts: { train: 0, dev: 0, test: 0, total: 0 }, normalisation: null });
    const again = await gw.request(CREATE_SPEAKER, { name: 'oliver' });
    expect(codeOf(again)).toBe(ErrorCode.CONFLICT);
    const bad = await gw.request(CREATE_SPEAKER, { name: 'Not A Handle!' });
    expect(codeOf(bad)).toBe(ErrorCode.BAD_USER_INPUT);
    expect(bad.errors?.[0].extensions?.['details']).toEqual({ field: 'name' });
  });

  it('pages speakers newest first with stable cursors and caps page sizes at 100', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await gw.request(CREATE_SPEAKER, { name });
    type Page = { speakers: { totalCount: number; edges: { cursor: string; node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const q = 'query($after: String) { speakers(first: 2, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }';
    const first = await gw.request<Page>(q);
    const second = await gw.request<Page>(q, { after: must(first.data).speakers.pageInfo.endCursor });
    const names = [...must(first.data).speakers.edges, ...must(second.data).speakers.edges].map((e) => e.node.name);
    expect(names.slice(0, 3)).toEqual(['page-c', 'page-b', 'page-a']);
    expect(must(first.data).speakers.pageInfo.hasNextPage).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(must(first.data).speakers.totalCount).toBeGreaterThanOrEqual(3);
    expect(codeOf(await gw.request('{ speakers(first: 101) { totalCount } }'))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(codeOf(await gw.request('{ speakers(after: "not-a-cursor") { totalCount } }'))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('reads a speaker with statistics, videos with download URLs, and samples by split', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'reader');
    type Result = {
      speaker: {
        name: string;
        scaleFactor: number;
        normalisation: { poseMean: number[] };
        sampleCounts: { train: number; dev: number; test: number; total: number };
        stats: { videos: number; intervals: number; shards: number; seconds: { train: number } };
        videos: { name: string; audioUrl: string; sourceUrl: string | null; speaker: { name: string } }[];
        samples: { totalCount: number; edges: { node: { split: string; durationSeconds: number; audioUrl: string; shard: { key: string; index: number }; video: { name: string } } }[] };
      };
    };
    const res = await gw.request<Result>(
      `query($id: ID!) { speaker(id: $id) { name scaleFactor normalisation { poseMean } sampleCounts { train dev test total }
         stats { videos intervals shards seconds { train } }
         videos { name audioUrl sourceUrl speaker { name } }
         samples(split: train, first: 2) { totalCount edges { node { split durationSeconds audioUrl shard { key index } video { name } } } } } }`,
      { id: seeded.speakerId },
    );
    expect(res.errors).toBeUndefined();
    const s = must(res.data).speaker;
    expect(s.sampleCounts).toEqual({ train: 3, dev: 1, test: 1, total: 5 });
    expect(s.stats).toEqual({ videos: 1, intervals: 3, shards: 1, seconds: { train: 30 } });
    expect(s.normalisation.poseMean).toHaveLength(98);
    expect(s.videos[0]).toMatchObject({ name: 'reader-1.mp4', sourceUrl: null, speaker: { name: 'reader' } });
    const audio = await fetch(s.videos[0].audioUrl);
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer())).toEqual(seeded.audioBytes);
    expect(s.samples.totalCount).toBe(3);
    expect(s.samples.edges).toHaveLength(2);
    expect(s.samples.edges[0].node).toMatchObject({ split: 'train', video: { name: 'reader-1.mp4' } });
    expect([0, 1, 2]).toContain(s.samples.edges[0].node.shard.index);
    expect(s.samples.edges[0].node.shard.key).toMatch(/^speakers\/.+\/samples\/train-000\.bin$/);
    expect(s.samples.edges[0].node.audioUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);

    const bySplit = await gw.request<{ samples: { totalCount: number } }>('query($id: ID!) { samples(speakerId: $id, split: dev) { totalCount } }', { id: seeded.speakerId });
    expect(bySplit.data?.samples.totalCount).toBe(1);
    expect((await gw.request<{ sample: { id: string } }>('query($id: ID!) { sample(id: $id) { id } }', { id: seeded.sampleIds.test[0] })).data?.sample.id).toBe(seeded.sampleIds.test[0]);
    expect((await gw.request<{ speaker: null }>('{ speaker(id: "00000000-0000-4000-8000-000000000000") { id } }')).data?.speaker).toBeNull();
  });

  it('reads a finished run: config, progress, metric history, evaluations beside the baselines, checkpoints, backend', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'run-reader');
    const run = await seedCompletedRun(gw.platform.db, seeded.speakerId);
    type Result = {
      trainingRun: {
        kind: string;
        status: string;
        backend: string;
        device: string;
        config: { preset: string; iterations: number; learningRate: number };
        progress: { step: number; totalSteps: number; fraction: number; lossG: number; etaSeconds: number | null };
        metricHistory: { step: number; phase: string; values: Record<string, number> }[];
        latestEvaluations: { method: string; l1: number; checkpoint: { id: string } | null }[];
        checkpoints: { kind: string; step: number; run: { id: string } }[];
        bestCheckpoint: { id: string };
        speaker: { name: string };
      };
      backend: { training: { backend: string; device: string; recordId: string } };
    };
    const res = await gw.request<Result>(
      `query($id: ID!) { trainingRun(id: $id) { kind status backend device config { preset iterations learningRate }
         progress { step totalSteps fraction lossG etaSeconds } metricHistory(phase: train) { step phase values }
         latestEvaluations(split: test) { method l1 checkpoint { id } } checkpoints { kind step run { id } } bestCheckpoint { id } speaker { name } }
         backend { training { backend device recordId } } }`,
      { id: run.runId },
    );
    expect(res.errors).toBeUndefined();
    const r = must(res.data).trainingRun;
    expect(r).toMatchObject({ kind: 'training', status: 'completed', backend: 'wasm', device: 'cpu', speaker: { name: 'run-reader' } });
    expect(r.config).toEqual({ preset: 'tiny', iterations: 600, learningRate: TRAINING_DEFAULTS.learningRate });
    expect(r.progress).toEqual({ step: 600, totalSteps: 600, fraction: 1, lossG: 0.01, etaSeconds: null });
    expect(r.metricHistory.map((m) => [m.step, m.phase])).toEqual([[300, 'train'], [600, 'train']]);
    expect(r.latestEvaluations.map((e) => e.method).sort()).toEqual(['median', 'model', 'nearest', 'random']);
    expect(r.latestEvaluations.find((e) => e.method === 'model')?.checkpoint?.id).toBe(run.bestCheckpointId);
    expect(r.checkpoints.map((c) => [c.kind, c.step])).toEqual([['best', 300], ['final', 600]]);
    expect(r.bestCheckpoint.id).toBe(run.bestCheckpointId);
    expect(must(res.data).backend.training).toEqual({ backend: 'wasm', device: 'cpu', recordId: run.runId });

    const completed = await gw.request<{ trainingRuns: { edges: { node: { id: string } }[] } }>(
      'query($s: ID!) { trainingRuns(speakerId: $s, status: [completed]) { edges { node { id } } } }',
      { s: seeded.speakerId },
    );
    expect(completed.data?.trainingRuns.edges.map((e) => e.node.id)).toEqual([run.runId]);
    const queued = await gw.request<{ trainingRuns: { totalCount: number } }>('query($s: ID!) { trainingRuns(speakerId: $s, status: [queued]) { totalCount } }', { s: seeded.speakerId });
    expect(queued.data?.trainingRuns.totalCount).toBe(0);
  });

  it('reads a result and its render with download URLs of poses, video and poster, and any job by id', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'result-reader');
    const run = await seedCompletedRun(gw.platform.db, seeded.speakerId);
    const result = await seedCompletedResult(gw.platform.db, gw.platform.store, seeded.speakerId, run.runId);
    type Result = {
      inferenceResult: { status: string; frameCount: number; latencyMs: number; backend: string; posesJsonUrl: string; posesBinaryUrl: string; run: { id: string }; renders: { id: string; videoUrl: string; posterUrl: string; result: { id: string } }[] };
      job: { __typename: string; kind: string; status: string };
    };
    const res = await gw.request<Result>(
      `query($id: ID!, $renderId: ID!) { inferenceResult(id: $id) { status frameCount latencyMs backend posesJsonUrl posesBinaryUrl run { id } renders { id videoUrl posterUrl result { id } } }
         job(id: $renderId) { __typename kind status } }`,
      { id: result.resultId, renderId: result.renderId },
    );
    expect(res.errors).toBeUndefined();
    const r = must(res.data).inferenceResult;
    expect(r).toMatchObject({ status: 'completed', frameCount: 64, latencyMs: 120, backend: 'wasm', run: { id: run.runId } });
    expect(Buffer.from(await (await fetch(r.posesJsonUrl)).arrayBuffer())).toEqual(result.poses);
    const video = await fetch(r.renders[0].videoUrl);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await video.arrayBuffer())).toEqual(result.video);
    expect(must(res.data).job).toEqual({ __typename: 'Render', kind: 'render', status: 'completed' });
    const listed = await gw.request<{ renders: { totalCount: number }; inferenceResults: { totalCount: number } }>(
      'query($r: ID!, $s: ID!) { renders(resultId: $r, status: [completed]) { totalCount } inferenceResults(speakerId: $s) { totalCount } }',
      { r: result.resultId, s: seeded.speakerId },
    );
    expect(listed.data).toEqual({ renders: { totalCount: 1 }, inferenceResults: { totalCount: 1 } });
    const backend = await gw.request<{ backend: { inference: { backend: string; recordId: string } } }>('{ backend { inference { backend recordId } } }');
    expect(backend.data?.backend.inference.backend).toBe('wasm');
  });
});

describe('uploads', () => {
  const CREATE_UPLOAD = `mutation($input: CreateUploadInput!) { createUpload(input: $input) { uploadId key url method contentType maxBytes expiresAt } }`;
  type Upload = { createUpload: { uploadId: string; key: string; url: string; method: string; contentType: string; maxBytes: number; expiresAt: string } };

  it('grants a presigned PUT URL that stores the file', async () => {
    const bytes = Buffer.from('RIFF....WAVEfmt fake speech');
    const res = await gw.request<Upload>(CREATE_UPLOAD, { input: { filename: 'speech.wav', contentType: 'audio/wav', size: bytes.length } });
    expect(res.errors).toBeUndefined();
    const grant = must(res.data).createUpload;
    expect(grant).toMatchObject({ method: 'PUT', contentType: 'audio/wav', maxBytes: UPLOAD_MAX, key: `uploads/${grant.uploadId}/speech.wav` });
    expect(new Date(grant.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const put = await fetch(grant.url, { method: 'PUT', body: bytes, headers: { 'content-type': grant.contentType } });
    expect(put.status).toBe(200);
    expect(await gw.platform.store.getBuffer(grant.key)).toEqual(bytes);
  });

  it('refuses other types, bad names and sizes over the limit (BAD_USER_INPUT), and bodies over it (413)', async () => {
    for (const input of [
      { filename: 'run.exe', contentType: 'application/octet-stream', size: 10 },
      { filename: 'speech.wav', contentType: 'application/x-msdownload', size: 10 },
      { filename: '../speech.wav', contentType: 'audio/wav', size: 10 },
      { filename: 'speech.wav', contentType: 'audio/wav', size: UPLOAD_MAX + 1 },
      { filename: 'speech.wav', contentType: 'audio/wav', size: 0 },
    ]) {
      expect(codeOf(await gw.request(CREATE_UPLOAD, { input })), JSON.stringify(input)).toBe(ErrorCode.BAD_USER_INPUT);
    }
    const grant = must((await gw.request<Upload>(CREATE_UPLOAD, { input: { filename: 'big.wav', contentType: 'audio/wav', size: 100 } })).data).createUpload;
    const put = await fetch(grant.url, { method: 'PUT', body: Buffer.alloc(UPLOAD_MAX + 1) });
    expect(put.status).toBe(413);
    expect(await gw.platform.store.stat(grant.key)).toBeNull();
  });
});

describe('requests and their commands', () => {
  const START_TRAINING = `mutation($input: StartTrainingInput!) { startTraining(input: $input) { id status preset config { preset batchSize iterations learningRate } speaker { name } } }`;
  type Started = { startTraining: { id: string; status: string; preset: string; config: Record<string, unknown> } };

  it('startTraining writes a queued run and publishes its command once, with the record id as message id and the paper defaults', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'trainee');
    const res = await gw.request<Started>(START_TRAINING, { input: { speakerId: seeded.speakerId, config: { preset: 'tiny', iterations: 50 } } });
    expect(res.errors).toBeUndefined();
    const run = must(res.data).startTraining;
    expect(run).toMatchObject({ status: 'queued', preset: 'tiny', config: { preset: 'tiny', batchSize: TRAINING_DEFAULTS.batchSize, iterations: 50, learningRate: TRAINING_DEFAULTS.learningRate } });
    await eventually(() => commandsOf('s2g.training.requested').some((c) => c.payload.runId === run.id));
    const command = must(commandsOf('s2g.training.requested').find((c) => c.payload.runId === run.id));
    expect(command.ctx.messageId).toBe(`s2g.training.requested:${run.id}`);
    expect(command.payload).toMatchObject({ speakerId: seeded.speakerId, config: { ...TRAINING_DEFAULTS, preset: 'tiny', iterations: 50 }, resume: false });
    expect((await gw.platform.db.trainingRuns.getById(run.id)).status).toBe('queued');

    const defaults = await gw.request<Started>(START_TRAINING, { input: { speakerId: seeded.speakerId } });
    expect(defaults.data?.startTraining.config).toEqual({ preset: 'paper', batchSize: 32, iterations: 90_000, learningRate: 1e-4 });
    const byEpochs = await gw.request<Started>(START_TRAINING, { input: { speakerId: seeded.speakerId, config: { epochs: 2, epochIterations: 50 } } });
    expect(byEpochs.data?.startTraining.config).toMatchObject({ iterations: 100 });
  });

  it('refuses a bad config with every problem listed, an unknown speaker, and a speaker without data', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'bad-config');
    const bad = await gw.request(START_TRAINING, { input: { speakerId: seeded.speakerId, config: { batchSize: 0, learningRate: 2 } } });
    expect(codeOf(bad)).toBe(ErrorCode.BAD_USER_INPUT);
    const issues = (bad.errors?.[0].extensions?.['details'] as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    expect(issues).toEqual(['batchSize', 'learningRate']);
    const both = await gw.request(START_TRAINING, { input: { speakerId: seeded.speakerId, config: { iterations: 10, epochs: 2 } } });
    expect(both.errors?.[0]).toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
    expect(both.errors?.[0].message).toContain('epochs: give iterations or epochs, not both');
    expect(codeOf(await gw.request(START_TRAINING, { input: { speakerId: '00000000-0000-4000-8000-000000000000' } }))).toBe(ErrorCode.NOT_FOUND);
    expect(codeOf(await gw.request(START_TRAINING, { input: { speakerId: 'not-a-uuid' } }))).toBe(ErrorCode.NOT_FOUND);
    const empty = must((await gw.request<{ createSpeaker: { id: string } }>(CREATE_SPEAKER, { name: 'no-data-yet' })).data).createSpeaker;
    expect(codeOf(await gw.request(START_TRAINING, { input: { speakerId: empty.id } }))).toBe(ErrorCode.BAD_USER_INPUT);
    // Wrong types are refused by GraphQL itself, under the same code.
    expect(codeOf(await gw.request(START_TRAINING, { input: { speakerId: seeded.speakerId, config: { batchSize: 'many' } } }))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('marks the request failed and answers UNAVAILABLE when the bus refuses the command: no queued orphan', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'bus-down');
    const spy = vi.spyOn(gw.platform.bus, 'publishCommand').mockRejectedValueOnce(new Error('nats: connection closed'));
    try {
      const res = await gw.request(START_TRAINING, { input: { speakerId: seeded.speakerId } });
      expect(codeOf(res)).toBe(ErrorCode.UNAVAILABLE);
      expect(JSON.stringify(res.errors)).not.toContain('nats: connection closed');
    } finally {
      spy.mockRestore();
    }
    const runs = await gw.platform.db.trainingRuns.listBySpeaker(seeded.speakerId);
    expect(runs.edges.map((e) => [e.node.status, e.node.errorCode])).toEqual([['failed', ErrorCode.UNAVAILABLE]]);
  });

  it('cancelTraining publishes the cancel of a queued run; an ended run is a CONFLICT, an unknown one NOT_FOUND', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'canceller');
    const run = must((await gw.request<Started>(START_TRAINING, { input: { speakerId: seeded.speakerId } })).data).startTraining;
    const res = await gw.request<{ cancelTraining: { id: string; status: string } }>('mutation($id: ID!) { cancelTraining(runId: $id, reason: "changed my mind") { id status } }', { id: run.id });
    expect(res.data?.cancelTraining).toEqual({ id: run.id, status: 'queued' });
    await eventually(() => commandsOf('s2g.training.cancel').some((c) => c.payload.runId === run.id));
    expect(commandsOf('s2g.training.cancel').find((c) => c.payload.runId === run.id)?.payload.reason).toBe('changed my mind');

    const done = await seedCompletedRun(gw.platform.db, seeded.speakerId);
    expect(codeOf(await gw.request('mutation($id: ID!) { cancelTraining(runId: $id) { id } }', { id: done.runId }))).toBe(ErrorCode.CONFLICT);
    expect(codeOf(await gw.request('mutation { cancelTraining(runId: "00000000-0000-4000-8000-000000000000") { id } }'))).toBe(ErrorCode.NOT_FOUND);
  });

  it('startIngest from an upload queues the job with its object source; server paths need admin', async () => {
    const speaker = must((await gw.request<{ createSpeaker: { id: string } }>(CREATE_SPEAKER, { name: 'ingested' })).data).createSpeaker;
    const grant = must((await gw.request<{ createUpload: { uploadId: string; url: string } }>(
      'mutation { createUpload(input: { filename: "data.zip", contentType: "application/zip", size: 3 }) { uploadId url } }',
    )).data).createUpload;
    const START = `mutation($input: StartIngestInput!) { startIngest(input: $input) { id kind status layout source speaker { name } } }`;
    expect(codeOf(await gw.request(START, { input: { speakerId: speaker.id, layout: 'npz', source: { uploadId: grant.uploadId } } }))).toBe(ErrorCode.BAD_USER_INPUT);
    await fetch(grant.url, { method: 'PUT', body: Buffer.from('zip') });
    const res = await gw.request<{ startIngest: { id: string } }>(START, { input: { speakerId: speaker.id, layout: 'npz', source: { uploadId: grant.uploadId }, options: { maxVideos: 2 } } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.startIngest).toMatchObject({ kind: 'ingest', status: 'queued', layout: 'npz', source: `object:uploads/${grant.uploadId}/`, speaker: { name: 'ingested' } });
    const jobId = must(res.data).startIngest.id;
    await eventually(() => commandsOf('s2g.ingest.requested').some((c) => c.payload.jobId === jobId));
    expect(commandsOf('s2g.ingest.requested').find((c) => c.payload.jobId === jobId)?.payload).toMatchObject({
      speakerId: speaker.id,
      layout: 'npz',
      source: { kind: 'object', prefix: `uploads/${grant.uploadId}/` },
      options: { maxVideos: 2, splitSeed: 0, replace: false },
    });

    const write = await gw.token(['write']);
    const path = { input: { speakerId: speaker.id, layout: 's2g', source: { serverPath: '/datasets/s2g' } } };
    expect(codeOf(await gw.request(START, path, { token: write }))).toBe(ErrorCode.FORBIDDEN);
    expect(codeOf(await gw.request(START, { input: { speakerId: speaker.id, layout: 's2g', source: { objectPrefix: 'speakers/' } } }, { token: write }))).toBe(ErrorCode.FORBIDDEN);
    expect(codeOf(await gw.request(START, { input: { speakerId: speaker.id, layout: 's2g', source: { objectPrefix: 'uploads/nothing-here/' } } }, { token: write }))).toBe(ErrorCode.BAD_USER_INPUT);
    expect((await gw.request(START, path)).errors).toBeUndefined();
    expect(codeOf(await gw.request(START, { input: { speakerId: speaker.id, layout: 's2g', source: { serverPath: '/a', uploadId: grant.uploadId } } }))).toBe(ErrorCode.BAD_USER_INPUT);
    const synthetic = await gw.request<{ startIngest: { id: string } }>(START, { input: { speakerId: speaker.id, layout: 'synthetic', options: { synthetic: { minutes: 1.5, style: 'calm' } } } });
    expect(synthetic.errors).toBeUndefined();
    expect(codeOf(await gw.request(START, { input: { speakerId: speaker.id, layout: 'synthetic' } }))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('predict queues a result (and its render) for uploaded audio and a run; render queues a video of a finished result', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'predicted');
    const run = await seedCompletedRun(gw.platform.db, seeded.speakerId);
    const grant = must((await gw.request<{ createUpload: { uploadId: string; url: string; key: string } }>(
      'mutation { createUpload(input: { filename: "hello.wav", contentType: "audio/wav", size: 4 }) { uploadId url key } }',
    )).data).createUpload;
    await fetch(grant.url, { method: 'PUT', body: Buffer.from('RIFF') });
    const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id kind status runId speaker { name } renders { id status width height } } }`;
    type Predicted = { predict: { id: string; status: string; runId: string; renders: { id: string; status: string; width: number; height: number }[] } };
    const res = await gw.request<Predicted>(PREDICT, {
      input: { audio: { uploadId: grant.uploadId }, model: { runId: run.runId }, render: true, renderOptions: { width: 320, height: 240, groundTruthSampleId: seeded.sampleIds.test[0] } },
    });
    expect(res.errors).toBeUndefined();
    const result = must(res.data).predict;
    expect(result).toMatchObject({ status: 'queued', runId: run.runId, renders: [{ status: 'queued', width: 320, height: 240 }] });
    await eventually(() => commandsOf('s2g.inference.requested').some((c) => c.payload.resultId === result.id));
    const command = must(commandsOf('s2g.inference.requested').find((c) => c.payload.resultId === result.id));
    expect(command.ctx.messageId).toBe(`s2g.inference.requested:${result.id}`);
    expect(command.payload).toMatchObject({
      audio: { objectKey: grant.key },
      model: { runId: run.runId },
      render: { renderId: result.renders[0].id, width: 320, height: 240, fps: 15, withGroundTruthSampleId: seeded.sampleIds.test[0] },
    });

    const fromSample = await gw.request<Predicted>(PREDICT, { input: { audio: { sampleId: seeded.sampleIds.dev[0] }, model: { checkpointId: run.finalCheckpointId } } });
    expect(fromSample.data?.predict.renders).toEqual([]);
    expect(codeOf(await gw.request(PREDICT, { input: { audio: {}, model: { runId: run.runId } } }))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(codeOf(await gw.request(PREDICT, { input: { audio: { sampleId: seeded.sampleIds.dev[0] }, model: { checkpointId: '00000000-0000-4000-8000-000000000000' } } }))).toBe(ErrorCode.NOT_FOUND);
    const untrained = must((await gw.request<Started>(START_TRAINING, { input: { speakerId: seeded.speakerId } })).data).startTraining;
    expect(codeOf(await gw.request(PREDICT, { input: { audio: { sampleId: seeded.sampleIds.dev[0] }, model: { runId: untrained.id } } }))).toBe(ErrorCode.BAD_USER_INPUT);

    const RENDER = `mutation($input: RenderInput!) { render(input: $input) { id status width height fps result { id } } }`;
    expect(codeOf(await gw.request(RENDER, { input: { resultId: result.id } }))).toBe(ErrorCode.CONFLICT);
    const finished = await seedCompletedResult(gw.platform.db, gw.platform.store, seeded.speakerId, run.runId);
    const rendered = await gw.request<{ render: { id: string } }>(RENDER, { input: { resultId: finished.resultId, width: 1280, height: 720, fps: 30 } });
    expect(rendered.data?.render).toMatchObject({ status: 'queued', width: 1280, height: 720, fps: 30, result: { id: finished.resultId } });
    await eventually(() => commandsOf('s2g.render.requested').some((c) => c.payload.renderId === must(rendered.data).render.id));
    expect(codeOf(await gw.request(RENDER, { input: { resultId: finished.resultId, width: 5 } }))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(codeOf(await gw.request(RENDER, { input: { resultId: '00000000-0000-4000-8000-000000000000' } }))).toBe(ErrorCode.NOT_FOUND);
  });
});

describe('limits and protection', () => {
  it('refuses a query deeper than the limit with QUERY_TOO_COMPLEX (HTTP 400)', async () => {
    const deep = '{ speakers { edges { node { trainingRuns { edges { node { speaker { trainingRuns { edges { node { id } } } } } } } } } } }';
    const res = await gw.request(deep);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe(ErrorCode.QUERY_TOO_COMPLEX);
    expect(res.errors?.[0].message).toMatch(/too deep: depth 11, at most 10/);
  });

  it('refuses a query whose nested pages multiply past the cost limit', async () => {
    const res = await gw.request('{ speakers(first: 100) { edges { node { trainingRuns(first: 100) { edges { node { id checkpoints { id } } } } } } } }');
    expect(codeOf(res)).toBe(ErrorCode.QUERY_TOO_COMPLEX);
    expect(res.errors?.[0].message).toMatch(/too complex: estimated cost \d+, at most 5000/);
    // Variables count: the same shape with small pages passes.
    const small = await gw.request('query($n: Int) { speakers(first: $n) { edges { node { trainingRuns(first: $n) { edges { node { id checkpoints { id } } } } } } } }', { n: 5 });
    expect(small.errors).toBeUndefined();
  });

  it('answers the full introspection query', async () => {
    const res = await gw.request<{ __schema: { types: unknown[] } }>(getIntrospectionQuery(), {}, { token: null });
    expect(res.errors).toBeUndefined();
    expect(res.data?.__schema.types.length).toBeGreaterThan(50);
  });

  it('masks internal errors ("Internal error", a request id) and logs them with the stack', async () => {
    const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, 'masked');
    const spy = vi.spyOn(gw.platform.store, 'presignedGet').mockRejectedValueOnce(new Error('EACCES: /var/secret/objects'));
    let res;
    try {
      res = await gw.request<{ speaker: { videos: { audioUrl: string | null }[] } }>('query($id: ID!) { speaker(id: $id) { name videos { audioUrl } } }', { id: seeded.speakerId });
    } finally {
      spy.mockRestore();
    }
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]).toMatchObject({ message: 'Internal error', extensions: { code: ErrorCode.INTERNAL, requestId: res.headers.get('x-request-id') } });
    expect(JSON.stringify(res)).not.toMatch(/EACCES|secret|stack|at /);
    expect(res.data?.speaker.videos[0].audioUrl).toBeNull();
    const logged = gw.logs.find((l) => l['requestId'] === res.headers.get('x-request-id') && l['level'] === 'error');
    expect(JSON.stringify(logged)).toContain('EACCES: /var/secret/objects');
    expect((logged?.['err'] as { stack?: string } | undefined)?.stack).toContain('Error: EACCES');
  });

  it('blocks CSRF: a GET or a simple-content-type POST without a preflight header is refused', async () => {
    const get = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent('{ viewer { tokenName } }')}`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(get.status).toBe(400);
    const body = (await get.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
    const simplePost = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${gw.adminToken}` },
      body: JSON.stringify({ query: '{ viewer { tokenName } }' }),
    });
    expect(simplePost.status).toBe(400);
    const allowed = await fetch(`${gw.graphqlUrl}?query=${encodeURIComponent('{ viewer { tokenName } }')}`, {
      headers: { authorization: `Bearer ${gw.adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
  });

  it('answers a malformed body with BAD_USER_INPUT, never a stack trace', async () => {
    const res = await fetch(gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ errors: [{ extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
    expect(text).not.toMatch(/at .*\.js|SyntaxError/);
    const syntax = await gw.request('{ speakers { ');
    expect(codeOf(syntax)).toBe(ErrorCode.BAD_USER_INPUT);
    expect(syntax.errors?.[0].extensions?.['reason']).toBe('GRAPHQL_PARSE_FAILED');
    const unknownField = await gw.request('{ speakers { nope } }');
    expect(unknownField.errors?.[0].extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, reason: 'GRAPHQL_VALIDATION_FAILED' });
  });
});
