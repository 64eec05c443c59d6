export * from './columns';
export * from './speaker';
export * from './video';
export * from './interval';
export * from './shard';
export * from './sample';
export * from './ingest-job';
export * from './training-run';
export * from './run-metric';
export * from './checkpoint';
export * from './evaluation';
export * from './inference-result';
export * from './render';
export * from './api-token';

import { ApiToken } from './api-token';
import { Checkpoint } from './checkpoint';
import { Evaluation } from './evaluation';
import { InferenceResult } from './inference-result';
import { IngestJob } from './ingest-job';
import { Interval } from './interval';
import { Render } from './render';
import { RunMetric } from './run-metric';
import { Sample } from './sample';
import { Shard } from './shard';
import { Speaker } from './speaker';
import { TrainingRun } from './training-run';
import { Video } from './video';

/** Every entity, for the DataSource. */
export const ENTITIES = [Speaker, Video, Interval, Shard, Sample, IngestJob, TrainingRun, RunMetric, Checkpoint, Evaluation, InferenceResult, Render, ApiToken];
