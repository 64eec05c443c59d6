/**
 * Finding what a job names: the model (a run's best checkpoint or a given one), the input audio (an
 * uploaded object or a dataset sample), the speaker's statistics, a sample's ground truth. Every
 * lookup that fails says so with a stable code.
 */
import { FRAME_LENGTH, isSilent, SAMPLE_RATE } from '@s2g/audio';
import { ErrorCode, type InferenceAudio, type InferenceModel, S2gError } from '@s2g/contracts';
import { decodeShard } from '@s2g/dataset';
import { type Checkpoint, type Database, isUuid, Sample, type Speaker } from '@s2g/db';
import { decodeAudio } from '@s2g/media';
import type { SpeakerStats } from '@s2g/pose';
import type { ObjectStore } from '@s2g/storage';

export interface ResolvedModel {
  runId: string;
  checkpoint: Checkpoint;
  speakerId: string;
}

/**
 * A run's best checkpoint (by validation loss), else its latest one; or the checkpoint named.
 * NOT_FOUND for an unknown run or checkpoint, CHECKPOINT_MISSING for a run without checkpoints.
 */
export async function resolveModel(db: Database, model: InferenceModel): Promise<ResolvedModel> {
  if ('runId' in model) {
    const run = await db.trainingRuns.findById(model.runId);
    if (!run) throw new S2gError(ErrorCode.NOT_FOUND, `training run ${model.runId} not found`, { runId: model.runId });
    const checkpoint = (await db.checkpoints.best(run.id)) ?? (await db.checkpoints.latest(run.id));
    if (!checkpoint) throw new S2gError(ErrorCode.CHECKPOINT_MISSING, `training run ${run.id} has no checkpoint yet`, { runId: run.id });
    return { runId: run.id, checkpoint, speakerId: run.speakerId };
  }
  const checkpoint = isUuid(model.checkpointId) ? await db.checkpoints.findById(model.checkpointId) : null;
  if (!checkpoint) throw new S2gError(ErrorCode.NOT_FOUND, `checkpoint ${model.checkpointId} not found`, { checkpointId: model.checkpointId });
  const run = await db.trainingRuns.getById(checkpoint.runId);
  return { runId: run.id, checkpoint, speakerId: run.speakerId };
}

/** The speaker's normalisation statistics as @s2g/pose takes them; NO_TRAINING_DATA before ingest computed them. */
export function speakerStats(speaker: Speaker): SpeakerStats {
  if (!speaker.poseMean || !speaker.poseStd) {
    throw new S2gError(ErrorCode.NO_TRAINING_DATA, `speaker ${speaker.name} has no pose statistics yet (ingest computes them from training data)`, {
      speakerId: speaker.id,
    });
  }
  return { mean: Float64Array.from(speaker.poseMean), std: Float64Array.from(speaker.poseStd), median: new Float64Array(speaker.poseMean.length), frames: 0 };
}

/** One training window of a speaker, with its ground-truth pose (64 x 98 pixels) and audio. */
export interface LoadedSample {
  row: Sample;
  pose: Float32Array;
  audio: Float32Array;
}

/** NOT_FOUND for an unknown sample; the shard codes (SHARD_CORRUPT, ...) for an unreadable one. */
export async function loadSample(db: Database, store: ObjectStore, sampleId: string): Promise<LoadedSample> {
  const row = isUuid(sampleId) ? await db.manager.getRepository(Sample).findOneBy({ id: sampleId }) : null;
  if (!row) throw new S2gError(ErrorCode.NOT_FOUND, `sample ${sampleId} not found`, { sampleId });
  const shard = decodeShard(await store.getBuffer(row.shardKey), row.shardKey);
  const sample = shard.samples[row.shardIndex];
  if (!sample) throw new S2gError(ErrorCode.SHARD_CORRUPT, `${row.shardKey} has no sample at index ${row.shardIndex}`, { sampleId, shardKey: row.shardKey });
  return { row, pose: sample.pose, audio: sample.audio };
}

export interface InputAudio {
  /** Mono 16 kHz. */
  wave: Float32Array;
  /** The object holding the audio to mux into renders: the upload itself, or null for a sample (the caller stores it). */
  objectKey: string | null;
  sample: LoadedSample | null;
}

/** Rejects audio the model cannot use: AUDIO_SILENT (empty or silent), AUDIO_TOO_SHORT (under one analysis frame). */
export function checkAudio(wave: Float32Array, label: string): void {
  if (wave.length === 0 || isSilent(wave)) throw new S2gError(ErrorCode.AUDIO_SILENT, `${label}: the audio is ${wave.length === 0 ? 'empty' : 'silent'}`, { input: label });
  if (wave.length < FRAME_LENGTH) {
    throw new S2gError(ErrorCode.AUDIO_TOO_SHORT, `${label}: ${((wave.length / SAMPLE_RATE) * 1000).toFixed(1)} ms of audio is shorter than one 25 ms analysis frame`, { input: label });
  }
}

/**
 * Decodes the input to 16 kHz mono: an object in any format ffmpeg reads (NOT_FOUND when absent,
 * AUDIO_TOO_LONG over `maxSeconds`, MEDIA_UNREADABLE / MEDIA_UNSUPPORTED when ffmpeg cannot use it),
 * or a sample's audio. Then `checkAudio`.
 */
export async function loadInputAudio(db: Database, store: ObjectStore, audio: InferenceAudio, maxSeconds: number): Promise<InputAudio> {
  if ('sampleId' in audio) {
    const sample = await loadSample(db, store, audio.sampleId);
    checkAudio(sample.audio, `sample ${audio.sampleId}`);
    return { wave: sample.audio, objectKey: null, sample };
  }
  const key = audio.objectKey;
  const info = await store.stat(key);
  if (!info) throw new S2gError(ErrorCode.NOT_FOUND, `audio object ${key} not found`, { objectKey: key });
  if (info.size === 0) throw new S2gError(ErrorCode.AUDIO_SILENT, `${key}: the audio is empty`, { input: key });
  const wave = await decodeAudio(await store.get(key), { sampleRate: SAMPLE_RATE, maxDurationSec: maxSeconds, name: key });
  checkAudio(wave, key);
  return { wave, objectKey: key, sample: null };
}
