/**
 * Predictions and renders through the API: upload the speech, ask for gestures (and a video), wait
 * for each job, and save what they produced next to each other.
 */
import { ErrorCode } from '@s2g/contracts';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, type S2gClient } from '../client';
import { Q, type RenderView, type ResultView } from '../operations';
import { createProgress, type Io, writeFileAtomic } from '../output';
import { waitForJob } from './jobs';
import { uploadFile } from './upload';

export interface RenderSize {
  width?: number;
  height?: number;
  fps?: number;
}

export interface PredictOutputs {
  result: ResultView;
  render: RenderView | null;
  posesJson: string;
  video: string | null;
}

async function getResult(client: S2gClient, id: string): Promise<ResultView> {
  const { inferenceResult } = await client.request<{ inferenceResult: ResultView | null }>(Q.inferenceResult, { id });
  if (!inferenceResult) throw new CliError(ErrorCode.NOT_FOUND, `no inference result ${id}`);
  return inferenceResult;
}

async function getRender(client: S2gClient, id: string): Promise<RenderView> {
  const { render } = await client.request<{ render: RenderView | null }>(Q.renderById, { id });
  if (!render) throw new CliError(ErrorCode.NOT_FOUND, `no render ${id}`);
  return render;
}

/** Waits for a job with a progress bar; throws its error when it did not complete. */
async function waitWithBar(client: S2gClient, id: string, label: string, io: Io): Promise<void> {
  const bar = createProgress(io, label, 100);
  try {
    const state = await waitForJob(client, id, { onUpdate: (u) => bar.update(Math.round(100 * (u.fraction ?? 0)), u.stage ?? u.status) });
    bar.update(100, state.status);
    if (state.status !== 'completed') {
      throw new CliError(state.error?.code ?? ErrorCode.INTERNAL, `${label} ${state.status}: ${state.error?.message ?? 'no reason given'}`);
    }
  } finally {
    bar.stop();
  }
}

/** Waits for a render and saves its mp4 to `outDir/<name>.mp4`. */
export async function finishRender(client: S2gClient, renderId: string, outDir: string, name: string, io: Io): Promise<{ render: RenderView; video: string }> {
  await waitWithBar(client, renderId, 'rendering', io);
  const render = await getRender(client, renderId);
  if (!render.videoUrl) throw new CliError(ErrorCode.RESULT_MISSING, `render ${renderId} completed without a video`);
  const video = join(outDir, `${name}.mp4`);
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(video, await client.download(render.videoUrl));
  return { render, video };
}

/** Predicts gestures for an audio (or video) file with a run's model; writes `<out>/<resultId>.poses.json` and, rendered, `.mp4`. */
export async function predictFile(
  client: S2gClient,
  audio: string,
  options: { runId?: string; checkpointId?: string; outDir: string; render: boolean; size?: RenderSize; name?: string },
  io: Io,
): Promise<PredictOutputs> {
  const bar = createProgress(io, 'uploading audio', 1);
  const uploadId = await uploadFile(client, audio, { onProgress: (sent, total) => bar.update(sent, '', total) }).finally(() => bar.stop());
  const model = options.checkpointId ? { checkpointId: options.checkpointId } : { runId: options.runId };
  const { predict } = await client.request<{ predict: { id: string; renders: RenderView[] } }>(Q.predict, {
    input: { audio: { uploadId }, model, render: options.render, ...(options.render && options.size ? { renderOptions: options.size } : {}) },
  });
  await waitWithBar(client, predict.id, 'predicting', io);
  const result = await getResult(client, predict.id);
  if (!result.posesJsonUrl) throw new CliError(ErrorCode.RESULT_MISSING, `inference result ${result.id} completed without poses`);
  const outDir = resolve(options.outDir);
  const name = options.name ?? result.id;
  await mkdir(outDir, { recursive: true });
  const posesJson = join(outDir, `${name}.poses.json`);
  await writeFileAtomic(posesJson, await client.download(result.posesJsonUrl));
  const renderId = predict.renders[0]?.id;
  if (!options.render || !renderId) return { result, render: null, posesJson, video: null };
  const { render, video } = await finishRender(client, renderId, outDir, name, io);
  return { result, render, posesJson, video };
}

/** Renders a completed result again (another size, say) and saves the mp4. */
export async function renderResult(client: S2gClient, resultId: string, options: { outDir: string; size?: RenderSize }, io: Io): Promise<{ render: RenderView; video: string }> {
  const { render } = await client.request<{ render: RenderView }>(Q.render, { input: { resultId, ...options.size } });
  return finishRender(client, render.id, resolve(options.outDir), render.id, io);
}
