/**
 * The GraphQL operations the command line sends (schema.graphql is the contract) and the shapes of
 * what it reads back.
 */

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export interface JobError {
  code: string;
  message: string;
}

export interface SplitCounts {
  train: number;
  dev: number;
  test: number;
  total: number;
}

export interface SpeakerSummary {
  id: string;
  name: string;
  displayName: string;
  hours: number;
  createdAt: string;
  sampleCounts: SplitCounts;
}

export interface RunSummary {
  id: string;
  status: JobStatus;
  preset: string;
  step: number;
  createdAt: string;
  finishedAt: string | null;
  speaker: { name: string };
  config: TrainingConfig;
  progress: { fraction: number; totalSteps: number };
  error: JobError | null;
}

export interface TrainingConfig {
  preset: string;
  iterations: number;
  batchSize: number;
  learningRate: number;
  ganWeight: number;
  seed: number;
  validateEvery: number;
  validationSize: number;
  checkpointEvery: number;
}

export interface EvaluationRow {
  method: 'model' | 'median' | 'random' | 'nearest';
  split: string;
  l1: number;
  pck01: number;
  pck02: number;
  sampleCount: number | null;
  step: number | null;
  /** Further metrics by name (the test split: frechet, beatConsistency, diversity, ...). */
  metrics: Record<string, number>;
}

export interface MetricPoint {
  step: number;
  values: Record<string, number>;
}

export interface RunDetail extends RunSummary {
  backend: string | null;
  device: string | null;
  startedAt: string | null;
  speakerId: string;
  checkpoints: { id: string; step: number; kind: string; validationLoss: number | null }[];
  bestCheckpoint: { id: string; step: number } | null;
  latestEvaluations: EvaluationRow[];
  devEvaluations: EvaluationRow[];
}

export interface TrainingEvent {
  kind: 'started' | 'progress' | 'checkpoint' | 'evaluated' | 'completed' | 'failed' | 'cancelled';
  status: JobStatus;
  step: number | null;
  totalSteps: number | null;
  lossG: number | null;
  lossD: number | null;
  l1: number | null;
  samplesPerSec: number | null;
  etaSeconds: number | null;
  backend: string | null;
  device: string | null;
  evaluation: { split: string; step: number; samples: number; metrics: Record<string, number>; baselines: Record<string, Record<string, number>> | null } | null;
  error: JobError | null;
}

export interface JobUpdate {
  kind: string;
  status: JobStatus;
  fraction: number | null;
  stage: string | null;
  error: JobError | null;
  details: Record<string, unknown>;
}

export interface JobState {
  id: string;
  kind: string;
  status: JobStatus;
  error: JobError | null;
}

export interface UploadGrant {
  uploadId: string;
  url: string;
  contentType: string;
  maxBytes: number;
}

export interface RenderView {
  id: string;
  status: JobStatus;
  width: number;
  height: number;
  fps: number;
  videoUrl: string | null;
  posterUrl: string | null;
  error: JobError | null;
}

export interface ResultView {
  id: string;
  status: JobStatus;
  frameCount: number | null;
  durationSeconds: number | null;
  latencyMs: number | null;
  backend: string | null;
  posesJsonUrl: string | null;
  error: JobError | null;
  renders: RenderView[];
}

export interface TokenView {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const SPEAKER_FIELDS = 'id name displayName hours createdAt sampleCounts { train dev test total }';
const RUN_FIELDS = `id status preset step createdAt finishedAt speaker { name } error { code message }
  config { preset iterations batchSize learningRate ganWeight seed validateEvery validationSize checkpointEvery }
  progress { fraction totalSteps }`;
const EVALUATION_FIELDS = 'method split l1 pck01 pck02 sampleCount step metrics';
const RENDER_FIELDS = 'id status width height fps videoUrl posterUrl error { code message }';
const TOKEN_FIELDS = 'id name scopes createdAt lastUsedAt expiresAt revokedAt';

export const Q = {
  viewer: '{ viewer { tokenName scopes } }',
  speakers: `query($first: Int, $after: String) { speakers(first: $first, after: $after) { totalCount edges { node { ${SPEAKER_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  speakerByName: `query($name: String!) { speakerByName(name: $name) { ${SPEAKER_FIELDS} } }`,
  speakerDetail: `query($name: String!) { speakerByName(name: $name) { ${SPEAKER_FIELDS}
    scaleFactor shoulderWidth stats { videos intervals shards seconds { train dev test total } }
    latestCompletedRun { id createdAt }
    ingestJobs(first: 5) { edges { node { id status layout createdAt summary error { code message } } } }
    trainingRuns(first: 10) { edges { node { id status preset step createdAt progress { fraction totalSteps } } } } } }`,
  createSpeaker: `mutation($input: CreateSpeakerInput!) { createSpeaker(input: $input) { ${SPEAKER_FIELDS} } }`,
  createUpload: 'mutation($input: CreateUploadInput!) { createUpload(input: $input) { uploadId url contentType maxBytes } }',
  startIngest: 'mutation($input: StartIngestInput!) { startIngest(input: $input) { id status } }',
  ingestJob: 'query($id: ID!) { ingestJob(id: $id) { id status summary progress error { code message } } }',
  job: 'query($id: ID!) { job(id: $id) { id kind status error { code message } } }',
  jobUpdated: 'subscription($id: ID!) { jobUpdated(id: $id) { kind status fraction stage error { code message } details } }',
  startTraining: `mutation($input: StartTrainingInput!) { startTraining(input: $input) { ${RUN_FIELDS} } }`,
  trainingRuns: `query($speakerId: ID, $status: [JobStatus!], $first: Int) { trainingRuns(speakerId: $speakerId, status: $status, first: $first) { totalCount edges { node { ${RUN_FIELDS} } } } }`,
  trainingRun: `query($id: ID!) { trainingRun(id: $id) { ${RUN_FIELDS} backend device startedAt speakerId
    checkpoints { id step kind validationLoss } bestCheckpoint { id step }
    latestEvaluations(split: test) { ${EVALUATION_FIELDS} }
    devEvaluations: latestEvaluations(split: dev) { ${EVALUATION_FIELDS} } } }`,
  metricHistory: 'query($id: ID!, $phase: MetricPhase, $afterStep: Int) { trainingRun(id: $id) { metricHistory(phase: $phase, afterStep: $afterStep, limit: 10000) { step values } } }',
  trainingProgress: `subscription($runId: ID!) { trainingProgress(runId: $runId) { kind status step totalSteps lossG lossD l1 samplesPerSec etaSeconds backend device
    evaluation { split step samples metrics baselines } error { code message } } }`,
  cancelTraining: 'mutation($runId: ID!, $reason: String) { cancelTraining(runId: $runId, reason: $reason) { id status } }',
  predict: `mutation($input: PredictInput!) { predict(input: $input) { id status renders { ${RENDER_FIELDS} } } }`,
  inferenceResult: `query($id: ID!) { inferenceResult(id: $id) { id status frameCount durationSeconds latencyMs backend posesJsonUrl error { code message } renders { ${RENDER_FIELDS} } } }`,
  render: `mutation($input: RenderInput!) { render(input: $input) { ${RENDER_FIELDS} } }`,
  renderById: `query($id: ID!) { render(id: $id) { ${RENDER_FIELDS} } }`,
  tokens: `{ tokens { ${TOKEN_FIELDS} } }`,
  createToken: `mutation($input: CreateTokenInput!) { createToken(input: $input) { token apiToken { ${TOKEN_FIELDS} } } }`,
  revokeToken: 'mutation($id: ID!) { revokeToken(id: $id) }',
} as const;
