/**
 * The inference and renderer services as they run: each on its own NATS connection, over real
 * Postgres and S3, driven only by commands on the bus and observed only through events, records and
 * stored objects (what the gateway and a browser see).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import type { InferenceAudio, InferenceModel } from '@s2g/contracts';
import { extractFrames, type MediaInfo, probe } from '@s2g/media';
import { type EventBus, startCommandHandlers } from '@s2g/messaging';
import { denormalize, FRAME_VALUES, JOINT_GROUPS, NUM_KEYPOINTS, POSE_FPS } from '@s2g/pose';
import { type Colour, fitImage, FrameRenderer, LIGHT_THEME, type Theme, VIDEO_THEME } from '@s2g/render';
import { StorageKeys } from '@s2g/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_INFERENCE_SETTINGS,
  DEFAULT_RENDER_SETTINGS,
  decodePosesBinary,
  inferenceCommandHandlers,
  InferenceService,
  type PosesJson,
  renderCommandHandlers,
  RenderService,
  resamplePoses,
  startTensorBackend,
} from '../src';
import { createWorld, encodeAudioFile, EventLog, logger, type World } from './world';

const MAX_SECONDS = 8;
let world: World;
let client: EventBus;
let events: EventLog;
let inference: InferenceService;
let renderer: RenderService;

beforeAll(async () => {
  world = await createWorld();
  const backend = await startTensorBackend('wasm', { info: () => undefined });
  const inferenceBus = await world.connectBus('inference');
  const rendererBus = await world.connectBus('renderer');
  client = await world.connectBus('client');
  events = await EventLog.listen(client);
  inference = new InferenceService({
    db: world.db,
    store: world.store,
    bus: inferenceBus,
    logger,
    settings: { ...DEFAULT_INFERENCE_SETTINGS, maxAudioSeconds: MAX_SECONDS },
    backend,
  });
  renderer = new RenderService({ db: world.db, store: world.store, bus: rendererBus, logger, settings: DEFAULT_RENDER_SETTINGS });
  await startCommandHandlers(inferenceBus, 'inference', inferenceCommandHandlers(inference));
  await startCommandHandlers(rendererBus, 'renderer', renderCommandHandlers(renderer));
}, 300_000);

afterAll(async () => {
  inference?.close();
  await world?.close();
});

async function upload(name: string, bytes: Uint8Array): Promise<string> {
  const key = StorageKeys.upload(randomUUID(), name);
  await world.store.put(key, bytes, bytes.length);
  return key;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of world.store.list(prefix)) keys.push(info.key);
  return keys;
}

async function download(key: string, name: string): Promise<string> {
  const file = join(world.tmp.path, `${randomUUID()}-${name}`);
  await pipeline(await world.store.get(key), createWriteStream(file));
  return file;
}

/** The poster as rgb24 pixels (ffmpeg decodes the PNG losslessly). */
async function posterPixels(key: string, width: number, height: number): Promise<Buffer> {
  const file = await download(key, 'poster.png');
  // A still is one frame 1/25 s long: at 1 fps ffmpeg's fps filter would emit none.
  for await (const frame of extractFrames(file, 15, width, height)) return frame;
  throw new Error('poster has no frame');
}

/** Colour distance of the pixel holding (x, y) from `colour`; infinite off the canvas. */
function distance(pixels: Uint8Array, width: number, x: number, y: number, colour: Colour): number {
  const height = pixels.length / 3 / width;
  if (!(x >= 0 && y >= 0 && x < width && y < height)) return Infinity;
  const at = (Math.floor(y) * width + Math.floor(x)) * 3;
  return Math.hypot(pixels[at] - colour.r, pixels[at + 1] - colour.g, pixels[at + 2] - colour.b);
}

/**
 * The video lasts as long as the speech, rounded up to whole frames (the last frame is the one the
 * speech ends in). The file as a whole may run up to one AAC packet (1024 samples at 48 kHz) longer:
 * the audio track is encoded in whole packets.
 */
function expectLengthOfAudio(info: MediaInfo, audioSeconds: number, fps: number): void {
  const video = info.video?.durationSec ?? 0;
  expect(video).toBeGreaterThanOrEqual(audioSeconds - 1e-3);
  expect(video - audioSeconds).toBeLessThan(1 / fps);
  expect(Math.abs(info.durationSec - audioSeconds)).toBeLessThan(1 / fps + 1024 / 48_000);
}

/** Joints whose dots nothing else is drawn over in a plausible pose: neck, shoulders, elbows, wrists, finger tips. */
const ARM_JOINTS = [0, 1, 2, 3, 4, 5, 6];
const FINGER_TIPS = [11, 15, 19, 23, 27, 32, 36, 40, 44, 48];

/** Checks that at every joint's canvas position the poster has that joint's limb colour. */
function expectJointColours(pixels: Uint8Array, renderer: FrameRenderer, sequence: number, frame: number, joints: number[], theme: Theme): void {
  const { width } = renderer.canvas;
  const off = joints.filter((j) => {
    const { x, y } = renderer.project(sequence, frame, j);
    return distance(pixels, width, x, y, theme.limbs[JOINT_GROUPS[j]]) > 40;
  });
  expect(off, `joints not drawn in their limb colour (panel ${sequence}, frame ${frame})`).toEqual([]);
}

describe('inference then render, over the bus', () => {
  it('turns an mp3 upload into documented pose files, then a 640x360 mp4 with its sound and a poster of the predicted joints', async () => {
    const wave = world.speech.subarray(SAMPLE_RATE, 7 * SAMPLE_RATE);
    const objectKey = await upload('speech.mp3', await encodeAudioFile(wave, join(world.tmp.path, 'speech.mp3'), world.tmp.path));
    const resultId = randomUUID();
    const renderId = randomUUID();
    // As the gateway does it: the records first (queued), then the command.
    await world.db.inferenceResults.create({ id: resultId, speakerId: world.speaker.id, runId: world.run.id, input: { audio: { objectKey } }, audioKey: objectKey });
    await world.db.renders.create({ id: renderId, resultId, width: 640, height: 360, fps: 15 });
    await client.publishCommand('s2g.inference.requested', { resultId, audio: { objectKey }, model: { runId: world.run.id }, render: { renderId, width: 640, height: 360, fps: 15 } });

    const completed = await events.waitFor('s2g.inference.completed', (p) => p.resultId === resultId);
    const result = await world.db.inferenceResults.getById(resultId);
    expect(result).toMatchObject({ status: 'completed', runId: world.run.id, checkpointId: world.run.bestId, backend: 'wasm', audioKey: objectKey });
    expect(result.durationSeconds).toBeCloseTo(6, 1);
    expect(result.frameCount).toBe(Math.ceil((result.durationSeconds ?? 0) * POSE_FPS - 1e-9));
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(completed).toMatchObject({ renderId, fps: 15, frames: result.frameCount, objectKey: `results/${resultId}/poses.json`, durationMs: result.latencyMs });

    const json = JSON.parse((await world.store.getBuffer(result.posesJsonKey ?? '')).toString()) as PosesJson;
    const poses = decodePosesBinary(await world.store.getBuffer(result.posesBinKey ?? ''));
    expect(json).toMatchObject({
      format: 's2g-poses',
      fps: 15,
      frames: result.frameCount,
      speaker: { id: world.speaker.id, name: 'synth' },
      model: { runId: world.run.id, checkpointId: world.run.bestId, step: 3, preset: 'tiny' },
      coordinates: { units: 'pixels', neck: 'fixed', origin: [640, 288] },
    });
    expect(poses.frames).toBe(result.frameCount);
    // Pixels are the normalised values decoded with the speaker's statistics, neck at the origin.
    const decoded = denormalize(poses.normalized, world.speaker.stats, { origin: [640, 288] });
    for (let i = 0; i < decoded.length; i += 7) expect(poses.pixels[i]).toBeCloseTo(decoded[i], 2);
    expect(poses.pixels[0]).toBe(640);
    for (let t = 0; t < poses.frames; t++) expect([poses.normalized[t * FRAME_VALUES], poses.normalized[t * FRAME_VALUES + NUM_KEYPOINTS]]).toEqual([0, 0]);
    const last = poses.frames - 1;
    expect(json.pixels[last][1][5]).toBeCloseTo(poses.pixels[last * FRAME_VALUES + NUM_KEYPOINTS + 5], 2);
    expect(json.normalized[last][0][5]).toBeCloseTo(poses.normalized[last * FRAME_VALUES + 5], 4);

    const rendered = await events.waitFor('s2g.render.completed', (p) => p.renderId === renderId);
    expect(rendered).toMatchObject({ resultId, objectKey: `renders/${renderId}/video.mp4`, previewKey: `renders/${renderId}/poster.png` });
    const render = await world.db.renders.getById(renderId);
    expect(render).toMatchObject({ status: 'completed', videoKey: rendered.objectKey, posterKey: rendered.previewKey });

    const info = await probe(await download(rendered.objectKey, 'video.mp4'));
    expect(info.video).toMatchObject({ codec: 'h264', pixelFormat: 'yuv420p', width: 640, height: 360 });
    expect(info.video?.fps).toBeCloseTo(15, 1);
    expect(info.audio?.codec).toBe('aac');
    expectLengthOfAudio(info, result.durationSeconds ?? 0, 15);

    const posterFrame = (render.progress as { posterFrame: number }).posterFrame;
    const pixels = await posterPixels(rendered.previewKey ?? '', 640, 360);
    const drawn = new FrameRenderer({ sequences: [{ label: 'prediction', frames: poses.pixels }], width: 640, height: 360, fps: 15, title: 'Synthetic Speaker' });
    expectJointColours(pixels, drawn, 0, posterFrame, [...ARM_JOINTS, ...FINGER_TIPS], LIGHT_THEME);
    // And the poster is exactly that frame of the stored poses as the renderer draws it.
    expect(pixels.equals(Buffer.from(drawn.render(posterFrame).data))).toBe(true);
  });

  it("predicts from a sample's audio and draws it beside the ground truth over the source video at 30 fps", async () => {
    const sample = world.samples[0];
    const resultId = randomUUID();
    const renderId = randomUUID();
    // No records made beforehand: the services create them.
    await client.publishCommand('s2g.inference.requested', {
      resultId,
      audio: { sampleId: sample.id },
      model: { checkpointId: world.run.bestId },
      render: { renderId, width: 480, height: 180, fps: 30, withGroundTruthSampleId: sample.id, overVideo: true },
    });
    const rendered = await events.waitFor('s2g.render.completed', (p) => p.renderId === renderId, 120_000);

    const result = await world.db.inferenceResults.getById(resultId);
    expect(result).toMatchObject({ status: 'completed', speakerId: world.speaker.id, runId: world.run.id, checkpointId: world.run.bestId, frameCount: 64, audioKey: `results/${resultId}/audio.wav` });
    const poses = decodePosesBinary(await world.store.getBuffer(result.posesBinKey ?? ''));
    // Placed on the sample's own neck track, so the prediction lines up with the video.
    for (let t = 0; t < 64; t++) {
      expect(poses.pixels[t * FRAME_VALUES]).toBeCloseTo(sample.pose[t * FRAME_VALUES], 3);
      expect(poses.pixels[t * FRAME_VALUES + NUM_KEYPOINTS]).toBeCloseTo(sample.pose[t * FRAME_VALUES + NUM_KEYPOINTS], 3);
    }
    const json = JSON.parse((await world.store.getBuffer(result.posesJsonKey ?? '')).toString()) as PosesJson;
    expect(json.coordinates).toEqual({ units: 'pixels', neck: 'sample', origin: null });
    expect(json.input).toEqual({ sampleId: sample.id });

    const render = await world.db.renders.getById(renderId);
    expect(render).toMatchObject({ status: 'completed', width: 480, height: 180, fps: 30, options: { withGroundTruthSampleId: sample.id, overVideo: true } });
    const audioSeconds = sample.audio.length / SAMPLE_RATE;
    const info = await probe(await download(rendered.objectKey, 'video.mp4'));
    expect(info.video).toMatchObject({ codec: 'h264', pixelFormat: 'yuv420p', width: 480, height: 180 });
    expect(info.video?.fps).toBeCloseTo(30, 1);
    expect(info.audio?.codec).toBe('aac');
    expectLengthOfAudio(info, audioSeconds, 30);

    const frames = Math.ceil(audioSeconds * 30);
    const drawn = new FrameRenderer({
      sequences: [
        { label: 'prediction', frames: resamplePoses(poses.pixels, 15, 30, frames) },
        { label: 'ground truth', frames: resamplePoses(sample.pose, 15, 30, frames) },
      ],
      width: 480,
      height: 180,
      fps: 30,
      title: 'Synthetic Speaker',
      // The synthetic speaker's poses are in a 1280x720 frame; its stored video is that frame at 1/8.
      background: { width: 1280, height: 720 },
    });
    const posterFrame = (render.progress as { posterFrame: number }).posterFrame;
    const pixels = await posterPixels(rendered.previewKey ?? '', 480, 180);
    expectJointColours(pixels, drawn, 0, posterFrame, ARM_JOINTS, VIDEO_THEME);
    expectJointColours(pixels, drawn, 1, posterFrame, ARM_JOINTS, VIDEO_THEME);
    // Behind the figures is the source video, not the theme's flat background.
    const video = fitImage(160, 90, drawn.layout.panels[0].figure);
    const corner = ((video.y0 + 3) * 480 + video.x0 + 3) * 3;
    expect(Math.hypot(pixels[corner] - VIDEO_THEME.background.r, pixels[corner + 1] - VIDEO_THEME.background.g, pixels[corner + 2] - VIDEO_THEME.background.b)).toBeGreaterThan(100);
  });

  it('keeps models loaded: a second request for a checkpoint does not load it again', async () => {
    const objectKey = await upload('short.wav', encodeWav(world.speech.subarray(0, 2 * SAMPLE_RATE), SAMPLE_RATE));
    const before = inference.models.stats;
    const ids = [randomUUID(), randomUUID()];
    for (const resultId of ids) {
      await client.publishCommand('s2g.inference.requested', { resultId, audio: { objectKey }, model: { checkpointId: world.run.periodicId } });
      await events.waitFor('s2g.inference.completed', (p) => p.resultId === resultId);
    }
    const after = inference.models.stats;
    expect(after.loads).toBe(before.loads + 1);
    expect(after.hits).toBe(before.hits + 1);
    expect(inference.models.keys()).toContain(StorageKeys.checkpointPrefix(world.run.id, 2));
    // Both results name the checkpoint they used.
    for (const id of ids) expect(await world.db.inferenceResults.getById(id)).toMatchObject({ status: 'completed', checkpointId: world.run.periodicId });
  });
});

describe('bad input fails the job with its code and stores nothing', () => {
  interface Case {
    name: string;
    code: string;
    audio?: () => Promise<InferenceAudio>;
    model?: () => InferenceModel;
  }
  const bytes = (name: string, data: Uint8Array) => async () => ({ objectKey: await upload(name, data) });
  const cases: Case[] = [
    { name: 'silent audio', code: 'AUDIO_SILENT', audio: bytes('silence.wav', encodeWav(new Float32Array(2 * SAMPLE_RATE), SAMPLE_RATE)) },
    { name: 'an empty file', code: 'AUDIO_SILENT', audio: bytes('empty.m4a', new Uint8Array(0)) },
    {
      name: 'audio over the limit',
      code: 'AUDIO_TOO_LONG',
      audio: async () => ({ objectKey: await upload('long.m4a', await encodeAudioFile(world.speech.subarray(0, (MAX_SECONDS + 2) * SAMPLE_RATE), join(world.tmp.path, 'long.m4a'), world.tmp.path)) }),
    },
    { name: 'a file that is not audio', code: 'MEDIA_UNREADABLE', audio: bytes('notes.mp3', Buffer.from('these are meeting notes, not audio\n'.repeat(200))) },
    { name: 'a missing upload', code: 'NOT_FOUND', audio: async () => ({ objectKey: StorageKeys.upload(randomUUID(), 'gone.mp3') }) },
    { name: 'an unknown sample', code: 'NOT_FOUND', audio: async () => ({ sampleId: randomUUID() }) },
    { name: 'a run without checkpoints', code: 'CHECKPOINT_MISSING', model: () => ({ runId: world.emptyRunId }) },
    { name: 'an unknown run', code: 'NOT_FOUND', model: () => ({ runId: randomUUID() }) },
    { name: 'an unknown checkpoint', code: 'NOT_FOUND', model: () => ({ checkpointId: randomUUID() }) },
  ];

  it.each(cases)('$name: $code', async ({ code, audio, model }) => {
    const resultId = randomUUID();
    const renderId = randomUUID();
    const input = audio ? await audio() : { sampleId: world.samples[1].id };
    const chosen = model ? model() : { runId: world.run.id };
    const runId = 'runId' in chosen && chosen.runId === world.emptyRunId ? chosen.runId : null;
    await world.db.inferenceResults.create({ id: resultId, speakerId: world.speaker.id, runId, input: { audio: input } });
    await world.db.renders.create({ id: renderId, resultId, width: 320, height: 180, fps: 15 });
    await client.publishCommand('s2g.inference.requested', { resultId, audio: input, model: chosen, render: { renderId, width: 320, height: 180, fps: 15 } });

    const failed = await events.waitFor('s2g.inference.failed', (p) => p.resultId === resultId);
    expect(failed.error.code).toBe(code);
    expect(await world.db.inferenceResults.getById(resultId)).toMatchObject({ status: 'failed', errorCode: code, posesJsonKey: null, frameCount: null });
    // The render asked for with it fails too, for want of a result.
    const renderFailed = await events.waitFor('s2g.render.failed', (p) => p.renderId === renderId);
    expect(renderFailed.error.code).toBe('RESULT_MISSING');
    expect(await world.db.renders.getById(renderId)).toMatchObject({ status: 'failed', errorCode: 'RESULT_MISSING', videoKey: null });
    expect(await keysUnder(StorageKeys.resultPrefix(resultId))).toEqual([]);
    expect(await keysUnder(StorageKeys.renderPrefix(renderId))).toEqual([]);
    expect(events.events.some((e) => e.name === 's2g.inference.completed' && e.payload.resultId === resultId)).toBe(false);
  });

  it('a render of a result that does not exist: RESULT_MISSING', async () => {
    const renderId = randomUUID();
    const resultId = randomUUID();
    await client.publishCommand('s2g.render.requested', { renderId, resultId, width: 320, height: 180 });
    const failed = await events.waitFor('s2g.render.failed', (p) => p.renderId === renderId);
    expect(failed).toMatchObject({ resultId, error: { code: 'RESULT_MISSING' } });
    expect(await world.db.renders.findById(renderId)).toBeNull();
    expect(await keysUnder(StorageKeys.renderPrefix(renderId))).toEqual([]);
  });

  it('a render over video of a result predicted from an upload: BAD_USER_INPUT, nothing stored', async () => {
    const objectKey = await upload('speech.wav', encodeWav(world.speech.subarray(0, 2 * SAMPLE_RATE), SAMPLE_RATE));
    const resultId = randomUUID();
    await client.publishCommand('s2g.inference.requested', { resultId, audio: { objectKey }, model: { runId: world.run.id } });
    await events.waitFor('s2g.inference.completed', (p) => p.resultId === resultId);
    const renderId = randomUUID();
    await client.publishCommand('s2g.render.requested', { renderId, resultId, width: 320, height: 180, overVideo: true });
    const failed = await events.waitFor('s2g.render.failed', (p) => p.renderId === renderId);
    expect(failed.error.code).toBe('BAD_USER_INPUT');
    expect(await world.db.renders.getById(renderId)).toMatchObject({ status: 'failed', errorCode: 'BAD_USER_INPUT', videoKey: null, posterKey: null });
    expect(await keysUnder(StorageKeys.renderPrefix(renderId))).toEqual([]);
  });

  // The bus calls this hook once a command has used up its deliveries (here: what a worker whose
  // object store stayed unreachable would leave behind); driving it through five real deliveries
  // would take minutes of backoff.
  it('when the bus gives up on a command, the job fails with the last error and nothing stays stored', async () => {
    const resultId = randomUUID();
    const renderId = randomUUID();
    await world.db.inferenceResults.create({ id: resultId, speakerId: world.speaker.id, runId: world.run.id, input: {} });
    await world.db.inferenceResults.markRunning(resultId);
    await world.db.renders.create({ id: renderId, resultId, width: 320, height: 180, fps: 15 });
    await world.store.put(StorageKeys.result(resultId, 'poses.f32'), Buffer.from('partial'), 7);
    const command = { schemaVersion: 1, resultId, audio: { sampleId: world.samples[0].id }, model: { runId: world.run.id }, render: { renderId, width: 320, height: 180, fps: 15 } };
    const reason = { code: 'UNAVAILABLE', message: 'object store unreachable' };
    const at = new Date().toISOString();
    await inference.onDeadLetter({ schemaVersion: 1, command: 's2g.inference.requested', consumerGroup: 'inference', messageId: null, deliveries: 5, reason, data: JSON.stringify(command), at });

    const failed = await events.waitFor('s2g.inference.failed', (p) => p.resultId === resultId);
    expect(failed.error.code).toBe('UNAVAILABLE');
    const record = await world.db.inferenceResults.getById(resultId);
    expect(record).toMatchObject({ status: 'failed', errorCode: 'UNAVAILABLE' });
    expect(record.errorMessage).toContain('gave up after 5 deliveries: object store unreachable');
    expect(await world.db.renders.getById(renderId)).toMatchObject({ status: 'failed', errorCode: 'RESULT_MISSING' });
    expect(await keysUnder(StorageKeys.resultPrefix(resultId))).toEqual([]);

    // The renderer's hook does the same for its renders.
    const otherRender = randomUUID();
    await world.db.renders.create({ id: otherRender, resultId, width: 320, height: 180, fps: 15 });
    await world.store.put(StorageKeys.render(otherRender, 'video.mp4'), Buffer.from('partial'), 7);
    const renderCommand = { schemaVersion: 1, renderId: otherRender, resultId, width: 320, height: 180, fps: 15, overVideo: false };
    await renderer.onDeadLetter({ schemaVersion: 1, command: 's2g.render.requested', consumerGroup: 'renderer', messageId: null, deliveries: 5, reason, data: JSON.stringify(renderCommand), at });
    expect(await world.db.renders.getById(otherRender)).toMatchObject({ status: 'failed', errorCode: 'UNAVAILABLE' });
    expect((await events.waitFor('s2g.render.failed', (p) => p.renderId === otherRender)).error.code).toBe('UNAVAILABLE');
    expect(await keysUnder(StorageKeys.renderPrefix(otherRender))).toEqual([]);
  });
});
