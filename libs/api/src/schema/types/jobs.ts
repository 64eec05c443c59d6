import type { IngestLayout, JobKind, JobStatus, TokenScope } from '@s2g/contracts';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { IngestLayoutEnum, JobKindEnum, JobStatusEnum, TokenScopeEnum } from '../enums';
import { connectionType, DateTime, JobErrorType, JobInterface, JSONObject } from './common';

@ObjectType('IngestJob', { implements: JobInterface, description: 'A request to add data to a speaker.' })
export class IngestJobType extends JobInterface {
  @Field(() => ID, { nullable: true })
  speakerId!: string | null;

  @Field(() => String)
  speakerName!: string;

  @Field(() => IngestLayoutEnum)
  layout!: IngestLayout;

  @Field(() => String, { description: 'Where the data is read from: `object:<prefix>` or `path:<folder>`.' })
  source!: string;

  @Field(() => JSONObject, { description: 'Options as requested, defaults filled in.' })
  options!: Record<string, unknown>;

  @Field(() => JSONObject, { description: 'Latest progress report (stage, files, frames, samples, bytes).' })
  progress!: Record<string, unknown>;

  @Field(() => JSONObject, { nullable: true, description: 'What the job added, once completed.' })
  summary!: Record<string, unknown> | null;
}

@ObjectType('InferenceResult', { implements: JobInterface, description: 'Gestures predicted for one audio input.' })
export class InferenceResultType extends JobInterface {
  @Field(() => ID)
  speakerId!: string;

  @Field(() => ID, { nullable: true, description: 'The run whose model predicted (kept as history if the run is deleted).' })
  runId!: string | null;

  @Field(() => ID, { nullable: true })
  checkpointId!: string | null;

  @Field(() => JSONObject, { description: 'The request as given: audio, model, render options.' })
  input!: Record<string, unknown>;

  @Field(() => Int, { nullable: true, description: 'Predicted pose frames (15 per second).' })
  frameCount!: number | null;

  @Field(() => Float, { nullable: true })
  durationSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'Milliseconds the prediction took.' })
  latencyMs!: number | null;

  @Field(() => String, { nullable: true, description: 'Tensor backend that predicted.' })
  backend!: string | null;
}

@ObjectType('Render', { implements: JobInterface, description: 'A video drawn from an inference result, with its audio.' })
export class RenderType extends JobInterface {
  @Field(() => ID)
  resultId!: string;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Float)
  fps!: number;

  @Field(() => JSONObject)
  options!: Record<string, unknown>;

  @Field(() => JSONObject)
  progress!: Record<string, unknown>;
}

@ObjectType('JobUpdate', { description: 'A live update of any job.' })
export class JobUpdateType {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKindEnum)
  kind!: JobKind;

  @Field(() => JobStatusEnum, { description: 'The job\'s status after this update.' })
  status!: JobStatus;

  @Field(() => String, { description: 'The event behind the update, e.g. `s2g.ingest.progress`.' })
  event!: string;

  @Field(() => Float, { nullable: true, description: 'Done so far, 0..1, when known.' })
  fraction!: number | null;

  @Field(() => String, { nullable: true, description: 'Ingest stage, or the training event kind.' })
  stage!: string | null;

  @Field(() => JobErrorType, { nullable: true })
  error!: JobErrorType | null;

  @Field(() => JSONObject, { description: 'The event\'s own fields.' })
  details!: Record<string, unknown>;

  @Field(() => DateTime)
  at!: Date;
}

@ObjectType('Upload', { description: 'Where to PUT a file: send the bytes with this Content-Type and an exact Content-Length before expiresAt.' })
export class UploadType {
  @Field(() => ID, { description: 'Pass it to startIngest or predict; more files can be added with createUpload(uploadId).' })
  uploadId!: string;

  @Field(() => String, { description: 'Object key the file will have.' })
  key!: string;

  @Field(() => String)
  url!: string;

  @Field(() => String)
  method!: string;

  @Field(() => String)
  contentType!: string;

  @Field(() => Float)
  maxBytes!: number;

  @Field(() => DateTime)
  expiresAt!: Date;
}

@ObjectType('BackendUse', { description: 'A tensor backend as last reported by a service.' })
export class BackendUseType {
  @Field(() => String, { description: 'tfjs-node-gpu, tfjs-node, wasm or cpu.' })
  backend!: string;

  @Field(() => String, { nullable: true })
  device!: string | null;

  @Field(() => ID, { description: 'The training run or inference result it was read from.' })
  recordId!: string;

  @Field(() => DateTime)
  at!: Date;
}

@ObjectType('BackendInfo', {
  description:
    'Which tensor backend the services use, from their newest records: the last training run that started, the last inference result that finished. Null until that kind has run.',
})
export class BackendInfoType {
  @Field(() => BackendUseType, { nullable: true })
  training!: BackendUseType | null;

  @Field(() => BackendUseType, { nullable: true })
  inference!: BackendUseType | null;
}

@ObjectType('ApiToken', { description: 'An API token (its secret is never shown again after creation).' })
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [TokenScopeEnum])
  scopes!: TokenScope[];

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType('CreatedToken')
export class CreatedTokenType {
  @Field(() => String, { description: 'The secret: send it as "Authorization: Bearer <token>". Shown only this once.' })
  token!: string;

  @Field(() => ApiTokenType)
  apiToken!: ApiTokenType;
}

@ObjectType('Viewer', { description: 'The token making the request.' })
export class ViewerType {
  @Field(() => ID)
  tokenId!: string;

  @Field(() => String)
  tokenName!: string;

  @Field(() => [TokenScopeEnum])
  scopes!: TokenScope[];
}

export const IngestJobConnection = connectionType('IngestJob', IngestJobType);
export const InferenceResultConnection = connectionType('InferenceResult', InferenceResultType);
export const RenderConnection = connectionType('Render', RenderType);
