import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { Database, decodeCursor, encodeCursor, type SampleInput } from '../src/index';
import { testDb, type TestDb } from './fixture';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (e) {
    return e instanceof S2gError ? e.code : `not an S2gError: ${String(e)}`;
  }
  return undefined;
}

const stats98 = (v: number) => Array.from({ length: 98 }, (_, i) => (i === 0 || i === 49 ? 0 : v + i));

describe('repositories', () => {
  let env: TestDb;
  let db: Database;
  let dataSource: DataSource;

  beforeAll(async () => {
    env = await testDb();
    ({ db, dataSource } = await env.open('repos'));
  });
  afterAll(async () => {
    await env?.stop();
  });

  describe('speakers', () => {
    it('creates, finds, updates and refuses duplicate names with CONFLICT', async () => {
      const s = await db.speakers.create({ name: 'oliver', displayName: 'John Oliver' });
      expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(s.hours).toBe(0);
      expect(s.poseMean).toBeNull();
      expect((await db.speakers.findByName('oliver'))?.id).toBe(s.id);
      expect(await db.speakers.findByName('nobody')).toBeNull();
      expect(await db.speakers.findById('not-a-uuid')).toBeNull();

      const err = await db.speakers.create({ name: 'oliver' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(S2gError);
      expect((err as S2gError).code).toBe(ErrorCode.CONFLICT);
      expect((err as S2gError).details?.['constraint']).toBe('speakers_name_key');

      const updated = await db.speakers.update(s.id, { displayName: 'Oliver', hours: 1.5 });
      expect(updated.displayName).toBe('Oliver');
      expect(updated.hours).toBe(1.5);
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(s.updatedAt.getTime());
      expect(await codeOf(db.speakers.getById('00000000-0000-0000-0000-000000000000'))).toBe(ErrorCode.SPEAKER_UNKNOWN);
    });

    it('findOrCreate returns one row for concurrent callers', async () => {
      const all = await Promise.all([1, 2, 3, 4].map(() => db.speakers.findOrCreate({ name: 'conan' })));
      expect(new Set(all.map((s) => s.id)).size).toBe(1);
    });

    it('stores normalisation statistics of exactly 98 values', async () => {
      const s = await db.speakers.create({ name: 'seth' });
      const saved = await db.speakers.setNormalisation(s.id, { poseMean: stats98(100.25), poseStd: stats98(3.5), scaleFactor: 1.1, shoulderWidth: 240 });
      expect(saved.poseMean).toEqual(stats98(100.25));
      expect(saved.poseStd?.[5]).toBe(8.5);
      expect(await codeOf(db.speakers.setNormalisation(s.id, { poseMean: [1, 2], poseStd: stats98(1), scaleFactor: 1, shoulderWidth: 1 }))).toBe(ErrorCode.BAD_USER_INPUT);
      // The database enforces the shape too, whoever writes.
      const raw = dataSource.query('UPDATE speakers SET pose_mean = ARRAY[1,2]::float8[] WHERE id = $1', [s.id]);
      await expect(raw).rejects.toThrow(/speakers_pose_mean_check/);
    });
  });

  describe('media, intervals, samples', () => {
    let speakerId: string;
    let intervalIds: string[];

    beforeAll(async () => {
      speakerId = (await db.speakers.create({ name: 'ellen' })).id;
      const video = await db.videos.upsert({ speakerId, name: 'show-1.mp4', fps: 15, durationSeconds: 600 });
      const again = await db.videos.upsert({ speakerId, name: 'show-1.mp4', audioKey: 'speakers/x/videos/y/audio.wav' });
      expect(again.id).toBe(video.id);
      expect(again.fps).toBe(15);
      expect(again.audioKey).toBe('speakers/x/videos/y/audio.wav');
      const intervals = await db.intervals.upsertMany([
        { videoId: video.id, externalId: 'i1', startSeconds: 0, endSeconds: 30, split: 'train' },
        { videoId: video.id, externalId: 'i2', startSeconds: 40, endSeconds: 50, split: 'dev' },
        { videoId: video.id, externalId: 'i3', startSeconds: 60, endSeconds: 64.5, split: 'test' },
      ]);
      intervalIds = intervals.map((i) => i.id);
      // Re-importing an interval updates it in place.
      const moved = await db.intervals.upsertMany([{ videoId: video.id, externalId: 'i1', startSeconds: 1, endSeconds: 31, split: 'train' }]);
      expect(moved[0]?.id).toBe(intervalIds[0]);
      expect(moved[0]?.startSeconds).toBe(1);
    });

    function windows(intervalId: string, split: 'train' | 'dev' | 'test', count: number, shardKey = 'speakers/s/samples/a.bin'): SampleInput[] {
      return Array.from({ length: count }, (_, i) => ({
        speakerId,
        intervalId,
        split,
        startFrame: i * 5,
        startSeconds: i / 3,
        endSeconds: i / 3 + 4.2,
        shardKey,
        shardIndex: i,
      }));
    }

    it('inserts many windows atomically, counts by split, and rejects duplicates with CONFLICT', async () => {
      expect(await db.samples.insertMany(windows(intervalIds[0], 'train', 2500))).toBe(2500);
      expect(await db.samples.insertMany(windows(intervalIds[1], 'dev', 7))).toBe(7);
      expect(await db.samples.countBySplit(speakerId)).toEqual({ train: 2500, dev: 7, test: 0 });

      // One duplicate among new rows: nothing of the call is kept.
      const mixed = [...windows(intervalIds[2], 'test', 3), ...windows(intervalIds[1], 'dev', 1)];
      expect(await codeOf(db.samples.insertMany(mixed))).toBe(ErrorCode.CONFLICT);
      expect((await db.samples.countBySplit(speakerId)).test).toBe(0);

      expect(await db.samples.insertMany(mixed, 'ignore')).toBe(3);
      expect(await db.samples.insertMany(windows(intervalIds[1], 'dev', 7, 'speakers/s/samples/b.bin'), 'update')).toBe(7);
      expect((await db.samples.listByShard('speakers/s/samples/b.bin')).map((s) => s.shardIndex)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(await db.samples.countBySplit(speakerId)).toEqual({ train: 2500, dev: 7, test: 3 });

      const missingInterval = windows('00000000-0000-0000-0000-000000000000', 'train', 1);
      expect(await codeOf(db.samples.insertMany(missingInterval))).toBe(ErrorCode.NOT_FOUND);
    });

    it('pages through a speaker\'s windows of a split without gaps or repeats', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await db.samples.list(speakerId, { split: 'train' }, { first: 100, after });
        expect(page.totalCount).toBe(2500);
        seen.push(...page.edges.map((e) => e.node.id));
        pages += 1;
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(pages).toBe(25);
      expect(new Set(seen).size).toBe(2500);

      const last = await db.samples.list(speakerId, { split: 'train' }, { last: 3 });
      expect(last.edges.map((e) => e.node.id)).toEqual(seen.slice(-3));
      expect(last.pageInfo.hasPreviousPage).toBe(true);
      const before = await db.samples.list(speakerId, { split: 'train' }, { last: 2, before: last.pageInfo.startCursor });
      expect(before.edges.map((e) => e.node.id)).toEqual(seen.slice(-5, -3));
    });

    it('reports speaker stats', async () => {
      await db.shards.create({ speakerId, split: 'train', key: 'speakers/s/samples/a.bin', sampleCount: 2500, byteSize: 5_000_000_000 });
      expect(await codeOf(db.shards.create({ speakerId, split: 'train', key: 'speakers/s/samples/a.bin', sampleCount: 1, byteSize: 1 }))).toBe(ErrorCode.CONFLICT);
      expect((await db.shards.listBySpeaker(speakerId, 'train'))[0]?.byteSize).toBe(5_000_000_000);
      const stats = await db.speakers.stats(speakerId);
      expect(stats).toEqual({ videos: 1, intervals: 3, samples: { train: 2500, dev: 7, test: 3 }, seconds: { train: 30, dev: 10, test: 4.5 }, shards: 1 });
      expect((await db.intervals.listBySpeaker(speakerId, 'dev')).map((i) => i.externalId)).toEqual(['i2']);
    });

    it('rejects values the schema forbids with BAD_USER_INPUT', async () => {
      const video = await db.videos.upsert({ speakerId, name: 'bad.mp4' });
      expect(await codeOf(db.intervals.upsertMany([{ videoId: video.id, externalId: 'x', startSeconds: 5, endSeconds: 1, split: 'train' }]))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(db.intervals.upsertMany([{ videoId: video.id, externalId: 'y', startSeconds: 0, endSeconds: 1, split: 'holdout' as 'train' }]))).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });

  describe('jobs', () => {
    it('moves an ingest job through its lifecycle, refusing to leave a final state', async () => {
      const job = await db.ingestJobs.create({ speakerName: 'newbie', layout: 's2g', source: '/data/newbie' });
      expect(job.status).toBe('queued');
      expect(job.attempts).toBe(0);
      expect(job.progress).toEqual({});
      expect(await db.ingestJobs.markProgress(job.id, { done: 1 })).toBe(false);
      expect(await db.ingestJobs.markRunning(job.id)).toBe(true);
      expect(await db.ingestJobs.markRunning(job.id)).toBe(true);
      expect(await db.ingestJobs.markProgress(job.id, { phase: 'cutting', done: 3, total: 10 })).toBe(true);
      const running = await db.ingestJobs.getById(job.id);
      expect(running.attempts).toBe(2);
      expect(running.startedAt).toBeInstanceOf(Date);
      expect(running.progress).toEqual({ phase: 'cutting', done: 3, total: 10 });

      expect(await db.ingestJobs.markFailed(job.id, { code: ErrorCode.DATASET_INVALID, message: 'no frames.csv' })).toBe(true);
      expect(await db.ingestJobs.markCompleted(job.id)).toBe(false);
      expect(await db.ingestJobs.markRunning(job.id)).toBe(false);
      const failed = await db.ingestJobs.getById(job.id);
      expect(failed).toMatchObject({ status: 'failed', errorCode: 'DATASET_INVALID', errorMessage: 'no frames.csv' });
      expect(failed.finishedAt).toBeInstanceOf(Date);

      expect(await db.ingestJobs.requeue(job.id)).toBe(true);
      expect(await db.ingestJobs.markRunning(job.id)).toBe(true);
      expect(await db.ingestJobs.markCompleted(job.id, { summary: { samples: 12 } })).toBe(true);
      expect(await db.ingestJobs.getById(job.id)).toMatchObject({ status: 'completed', summary: { samples: 12 }, errorCode: null, attempts: 3 });
      expect(await codeOf(db.ingestJobs.getById('00000000-0000-0000-0000-000000000000'))).toBe(ErrorCode.NOT_FOUND);
    });

    it('keeps a training run\'s metric history, checkpoints and evaluations', async () => {
      const speaker = await db.speakers.create({ name: 'rock' });
      const run = await db.trainingRuns.create({ speakerId: speaker.id, preset: 'tiny', config: { lr: 1e-4, batchSize: 32 } });
      expect(await codeOf(db.trainingRuns.create({ speakerId: '00000000-0000-0000-0000-000000000000', preset: 'tiny', config: {} }))).toBe(ErrorCode.NOT_FOUND);
      await db.trainingRuns.markRunning(run.id);
      await db.trainingRuns.setBackend(run.id, 'wasm', 'cpu x2');
      expect(await db.trainingRuns.markProgress(run.id, { step: 200, epoch: 1, progress: { lossG: 0.5 } })).toBe(true);

      expect(await db.trainingRuns.appendMetric(run.id, { step: 100, epoch: 0, phase: 'train', values: { loss_g: 0.9 } })).toBe(true);
      expect(await db.trainingRuns.appendMetric(run.id, { step: 100, epoch: 0, phase: 'train', values: { loss_g: 0.1 } })).toBe(false);
      await db.trainingRuns.appendMetric(run.id, { step: 200, epoch: 1, phase: 'train', values: { loss_g: 0.5 }, elapsedMs: 12_345 });
      await db.trainingRuns.appendMetric(run.id, { step: 200, epoch: 1, phase: 'validation', values: { l1: 0.41 } });
      const history = await db.trainingRuns.metricHistory(run.id);
      expect(history.map((m) => [m.step, m.phase, m.values])).toEqual([
        [100, 'train', { loss_g: 0.9 }],
        [200, 'train', { loss_g: 0.5 }],
        [200, 'validation', { l1: 0.41 }],
      ]);
      expect(history[1]?.elapsedMs).toBe(12_345);
      expect((await db.trainingRuns.metricHistory(run.id, { phase: 'train', afterStep: 100 })).map((m) => m.step)).toEqual([200]);

      const prefix = (step: number) => `runs/${run.id}/checkpoints/${String(step).padStart(12, '0')}/`;
      await db.checkpoints.create({ runId: run.id, step: 100, kind: 'best', storagePrefix: prefix(100), validationLoss: 0.5 });
      const bestCk = await db.checkpoints.create({ runId: run.id, step: 200, kind: 'best', storagePrefix: prefix(200), validationLoss: 0.41 });
      await db.checkpoints.create({ runId: run.id, step: 300, kind: 'periodic', storagePrefix: prefix(300) });
      expect(await codeOf(db.checkpoints.create({ runId: run.id, step: 300, kind: 'periodic', storagePrefix: prefix(300) }))).toBe(ErrorCode.CONFLICT);
      const redelivered = await db.checkpoints.upsert({ runId: run.id, step: 300, kind: 'periodic', storagePrefix: prefix(300), byteSize: 42 });
      expect(redelivered.byteSize).toBe(42);
      expect((await db.checkpoints.latest(run.id))?.step).toBe(300);
      expect((await db.checkpoints.latest(run.id, 'best'))?.step).toBe(200);
      expect((await db.checkpoints.best(run.id))?.id).toBe(bestCk.id);
      expect((await db.checkpoints.listByRun(run.id)).map((c) => `${c.step}:${c.kind}`)).toEqual(['100:best', '200:best', '300:periodic']);
      expect((await db.checkpoints.findById(redelivered.id))?.storagePrefix).toBe(prefix(300));

      // Ids chosen by the caller (the trainer announces them in events) are kept; re-use is a CONFLICT.
      const chosen = '6f1c1b52-6a55-4f0e-9d51-0a2b0c3d4e5f';
      expect((await db.checkpoints.create({ id: chosen, runId: run.id, step: 400, kind: 'final', storagePrefix: prefix(400) })).id).toBe(chosen);
      expect(await codeOf(db.checkpoints.create({ id: chosen, runId: run.id, step: 500, kind: 'final', storagePrefix: prefix(500) }))).toBe(ErrorCode.CONFLICT);
      const runId = '0b8e2c1a-2f3d-4c5b-8a9e-112233445566';
      expect((await db.trainingRuns.create({ id: runId, speakerId: speaker.id, preset: 'small', config: {} })).id).toBe(runId);
      expect(await codeOf(db.trainingRuns.create({ id: runId, speakerId: speaker.id, preset: 'small', config: {} }))).toBe(ErrorCode.CONFLICT);

      await db.evaluations.create({ runId: run.id, checkpointId: bestCk.id, step: 200, split: 'test', method: 'model', l1: 0.4, pck01: 0.5, pck02: 0.8, metrics: { fgd: 12.5 } });
      await db.evaluations.create({ runId: run.id, split: 'test', method: 'median', l1: 0.6, pck01: 0.3, pck02: 0.6 });
      await db.evaluations.create({ runId: run.id, split: 'test', method: 'median', l1: 0.59, pck01: 0.31, pck02: 0.61 });
      await db.evaluations.create({ runId: run.id, split: 'dev', method: 'random', l1: 0.9, pck01: 0.1, pck02: 0.2 });
      const latest = await db.evaluations.latestPerMethod(run.id, 'test');
      expect(latest.map((e) => [e.method, e.l1])).toEqual([
        ['median', 0.59],
        ['model', 0.4],
      ]);
      expect(latest[1]?.metrics).toEqual({ fgd: 12.5 });
      expect(latest[1]?.step).toBe(200);
      expect(latest[0]?.step).toBeNull();
      expect(await db.evaluations.listByRun(run.id, { split: 'dev' })).toHaveLength(1);

      await db.trainingRuns.markCompleted(run.id);
      expect((await db.trainingRuns.latestCompleted(speaker.id))?.id).toBe(run.id);
      expect(await db.trainingRuns.getById(run.id)).toMatchObject({ status: 'completed', step: 200, epoch: 1, backend: 'wasm', device: 'cpu x2' });

      // Deleting a checkpoint keeps its evaluations as history.
      expect(await db.checkpoints.delete(bestCk.id)).toBe(true);
      expect((await db.evaluations.listByRun(run.id, { split: 'test' })).find((e) => e.method === 'model')?.checkpointId).toBeNull();
    });

    it('records inference results and their renders', async () => {
      const speaker = await db.speakers.create({ name: 'jon' });
      const result = await db.inferenceResults.create({ speakerId: speaker.id, input: { uploadId: 'u1' }, audioKey: 'uploads/u1/a.wav' });
      await db.inferenceResults.markRunning(result.id);
      await db.inferenceResults.markCompleted(result.id, { frameCount: 150, durationSeconds: 10, posesJsonKey: `results/${result.id}/poses.json`, latencyMs: 850, backend: 'cpu' });
      expect(await db.inferenceResults.getById(result.id)).toMatchObject({ status: 'completed', frameCount: 150, latencyMs: 850 });

      const render = await db.renders.create({ resultId: result.id, width: 640, height: 480, fps: 15 });
      expect(render.options).toEqual({});
      expect(await codeOf(db.renders.create({ resultId: result.id, width: 0, height: 480, fps: 15 }))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(db.renders.create({ resultId: '00000000-0000-0000-0000-000000000000', width: 1, height: 1, fps: 1 }))).toBe(ErrorCode.NOT_FOUND);
      await db.renders.markRunning(render.id);
      await db.renders.markCancelled(render.id);
      expect((await db.renders.listByResult(result.id)).map((r) => r.status)).toEqual(['cancelled']);

      const page = await db.inferenceResults.listBySpeaker(speaker.id, { first: 10 });
      expect(page.edges.map((e) => e.node.id)).toEqual([result.id]);
      expect(page.totalCount).toBe(1);

      // Deleting the speaker removes everything that hangs off it.
      expect(await db.speakers.delete(speaker.id)).toBe(true);
      expect(await db.renders.findById(render.id)).toBeNull();
    });
  });

  describe('api tokens', () => {
    it('finds active tokens by hash; revoked and expired ones are not active', async () => {
      const token = await db.apiTokens.create({ name: 'ci', hash: 'h-1', scopes: ['read', 'write'] });
      expect(token.scopes).toEqual(['read', 'write']);
      expect(await codeOf(db.apiTokens.create({ name: 'dup', hash: 'h-1', scopes: ['read'] }))).toBe(ErrorCode.CONFLICT);
      expect(await codeOf(db.apiTokens.create({ name: 'bad', hash: 'h-2', scopes: ['root' as 'read'] }))).toBe(ErrorCode.BAD_USER_INPUT);
      expect((await db.apiTokens.findActiveByHash('h-1'))?.id).toBe(token.id);
      await db.apiTokens.touch(token.id);
      expect((await db.apiTokens.findByHash('h-1'))?.lastUsedAt).toBeInstanceOf(Date);
      expect(await db.apiTokens.revoke(token.id)).toBe(true);
      expect(await db.apiTokens.revoke(token.id)).toBe(false);
      expect(await db.apiTokens.findActiveByHash('h-1')).toBeNull();

      await db.apiTokens.create({ name: 'old', hash: 'h-3', scopes: ['admin'], expiresAt: new Date(Date.now() - 1000) });
      expect(await db.apiTokens.findActiveByHash('h-3')).toBeNull();
      expect(await db.apiTokens.findActiveByHash('h-3', new Date(Date.now() - 60_000))).not.toBeNull();
    });
  });

  describe('transactions and pagination', () => {
    it('rolls back everything when the function throws, and joins nested calls', async () => {
      await expect(
        db.withTransaction(async (tx) => {
          await tx.speakers.create({ name: 'ghost' });
          await tx.withTransaction(async (inner) => {
            await inner.speakers.create({ name: 'ghost-2' });
          });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await db.speakers.findByName('ghost')).toBeNull();
      expect(await db.speakers.findByName('ghost-2')).toBeNull();

      const created = await db.withTransaction(async (tx) => tx.speakers.create({ name: 'kept' }));
      expect((await db.speakers.findByName('kept'))?.id).toBe(created.id);
    });

    it('pages speakers newest first with stable cursors, and rejects bad arguments', async () => {
      for (let i = 0; i < 7; i++) await db.speakers.create({ name: `page-${i}` });
      const all = (await db.speakers.list({ first: 100 })).edges.map((e) => e.node);
      // Newest first; rows of the same millisecond are ordered by id, so the order is total.
      const expected = [...all].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
      expect(all.map((s) => s.id)).toEqual(expected.map((s) => s.id));
      const walked: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await db.speakers.list({ first: 3, after });
        walked.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(walked).toEqual(all.map((s) => s.id));

      const first = await db.speakers.list({ first: 2 });
      expect(first.pageInfo.hasNextPage).toBe(true);
      expect(first.pageInfo.hasPreviousPage).toBe(false);
      const second = await db.speakers.list({ first: 2, after: first.pageInfo.endCursor });
      expect(second.pageInfo.hasPreviousPage).toBe(true);
      const firstIds = first.edges.map((e) => e.node.id);
      expect(second.edges.some((e) => firstIds.includes(e.node.id))).toBe(false);
      expect(decodeCursor(encodeCursor(first.edges[0].node))).toEqual({ createdAt: first.edges[0].node.createdAt, id: first.edges[0].node.id });

      expect(await codeOf(db.speakers.list({ first: 1, last: 1 }))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(db.speakers.list({ first: 101 }))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(db.speakers.list({ after: 'garbage' }))).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });
});
