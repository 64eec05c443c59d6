/**
 * Arguments and input types. Shapes only: values are checked by the contract schemas (zod) in the
 * request services, so the rules live in one place and errors list every problem.
 */
import { type IngestLayout, type JobStatus, type ModelPreset, type Split, type TokenScope, TRAINING_DEFAULTS } from '@s2g/contracts';
import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { IngestLayoutEnum, JobStatusEnum, ModelPresetEnum, SplitEnum, TokenScopeEnum } from './enums';
import { DateTime } from './types/common';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Items after `after`: 0 to 100, default 20.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Items before `before`: 0 to 100 (instead of first).' })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

@ArgsType()
export class SamplesArgs extends PageArgs {
  @Field(() => ID)
  speakerId!: string;

  @Field(() => SplitEnum, { nullable: true })
  split?: Split | null;
}

@ArgsType()
export class SpeakerSamplesArgs extends PageArgs {
  @Field(() => SplitEnum, { nullable: true })
  split?: Split | null;
}

@ArgsType()
export class StatusArgs extends PageArgs {
  @Field(() => [JobStatusEnum], { nullable: true, description: 'Only jobs in these statuses.' })
  status?: JobStatus[] | null;
}

@ArgsType()
export class SpeakerJobsArgs extends StatusArgs {
  @Field(() => ID, { nullable: true })
  speakerId?: string | null;
}

@ArgsType()
export class InferenceResultsArgs extends SpeakerJobsArgs {
  @Field(() => ID, { nullable: true })
  runId?: string | null;
}

@ArgsType()
export class RendersArgs extends StatusArgs {
  @Field(() => ID, { nullable: true })
  resultId?: string | null;
}

@InputType('CreateSpeakerInput')
export class CreateSpeakerInput {
  @Field(() => String, { description: 'Unique handle: lower-case letters, digits, "-" and "_", up to 64.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Name for people; defaults to `name`.' })
  displayName?: string | null;
}

@InputType('CreateUploadInput')
export class CreateUploadInput {
  @Field(() => String, { description: 'File name with its extension (audio, video, zip, tar, csv, json, npz).' })
  filename!: string;

  @Field(() => String, { description: 'audio/*, video/*, application/zip, application/x-tar, application/gzip, text/csv, application/json or application/octet-stream.' })
  contentType!: string;

  @Field(() => Float, { description: 'Size in bytes (at most the server\'s upload limit).' })
  size!: number;

  @Field(() => ID, { nullable: true, description: 'Add this file to an earlier upload instead of starting a new one.' })
  uploadId?: string | null;
}

@InputType('IngestSourceInput', { description: 'Exactly one field.' })
export class IngestSourceInput {
  @Field(() => ID, { nullable: true, description: 'Files uploaded with createUpload.' })
  uploadId?: string | null;

  @Field(() => String, { nullable: true, description: 'Objects under this key prefix; outside `uploads/` only with the admin scope.' })
  objectPrefix?: string | null;

  @Field(() => String, { nullable: true, description: 'An absolute folder on the ingest workers\' filesystem (admin scope).' })
  serverPath?: string | null;
}

@InputType('SyntheticOptionsInput', { description: 'What the synthetic layout generates (its source is ignored).' })
export class SyntheticOptionsInput {
  @Field(() => Float, { description: 'Minutes of speech, in videos of at most 2 minutes (up to 600).' })
  minutes!: number;

  @Field(() => Int, { nullable: true, description: 'Everything generated follows from it; default 0.' })
  seed?: number | null;

  @Field(() => String, { nullable: true, description: 'A style preset (calm, animated, lefty); drawn from the seed when omitted.' })
  style?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'False skips the rendered videos (audio only); default true.' })
  video?: boolean | null;
}

@InputType('IngestOptionsInput')
export class IngestOptionsInput {
  @Field(() => Int, { nullable: true })
  maxVideos?: number | null;

  @Field(() => Int, { nullable: true })
  maxSamples?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seed of the train/dev/test assignment when the data has no split.' })
  splitSeed?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Replace the speaker\'s data instead of adding to it.' })
  replace?: boolean | null;

  @Field(() => Float, { nullable: true, description: 'Frame rate of OpenPose keypoints (openpose layout), when the media cannot tell it.' })
  keypointFps?: number | null;

  @Field(() => String, { nullable: true, description: 'The speaker\'s name in the source dataset, when it differs from the speaker\'s own.' })
  sourceSpeaker?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Keep each video\'s source media (to render over it later) besides its audio; default true.' })
  storeMedia?: boolean | null;

  @Field(() => SyntheticOptionsInput, { nullable: true, description: 'Required by the synthetic layout.' })
  synthetic?: SyntheticOptionsInput | null;
}

@InputType('StartIngestInput')
export class StartIngestInput {
  @Field(() => ID)
  speakerId!: string;

  @Field(() => IngestLayoutEnum)
  layout!: IngestLayout;

  @Field(() => IngestSourceInput, { nullable: true, description: 'Required, except for the synthetic layout.' })
  source?: IngestSourceInput | null;

  @Field(() => IngestOptionsInput, { nullable: true })
  options?: IngestOptionsInput | null;
}

const D = TRAINING_DEFAULTS;

@InputType('TrainingConfigInput', { description: 'Omitted fields take the paper\'s values (given in each description).' })
export class TrainingConfigInput {
  @Field(() => ModelPresetEnum, { nullable: true, description: `Default ${D.preset}.` })
  preset?: ModelPreset | null;

  @Field(() => Int, { nullable: true, description: `Windows per batch; default ${D.batchSize}.` })
  batchSize?: number | null;

  @Field(() => Int, { nullable: true, description: `Length of the run in iterations (or give epochs); default ${D.iterations}.` })
  iterations?: number | null;

  @Field(() => Int, { nullable: true, description: 'Length of the run in epochs of epochIterations iterations (instead of iterations).' })
  epochs?: number | null;

  @Field(() => Int, { nullable: true, description: `Iterations per epoch; default ${D.epochIterations}.` })
  epochIterations?: number | null;

  @Field(() => Float, { nullable: true, description: `Adam learning rate; default ${D.learningRate}.` })
  learningRate?: number | null;

  @Field(() => Float, { nullable: true, description: `Weight of the adversarial loss (0: L1 only); default ${D.ganWeight}.` })
  ganWeight?: number | null;

  @Field(() => Int, { nullable: true, description: `Dev samples scored at each validation (0 skips it); default ${D.validationSize}.` })
  validationSize?: number | null;

  @Field(() => Int, { nullable: true, description: `Seed of the weights and the batch sampler; default ${D.seed}.` })
  seed?: number | null;

  @Field(() => Int, { nullable: true, description: 'Iterations between validations; default one epoch.' })
  validateEvery?: number | null;

  @Field(() => Int, { nullable: true, description: `Iterations between periodic checkpoints; default ${D.checkpointEvery}.` })
  checkpointEvery?: number | null;

  @Field(() => Int, { nullable: true, description: `Iterations between progress reports; default ${D.progressEvery}.` })
  progressEvery?: number | null;
}

@InputType('StartTrainingInput')
export class StartTrainingInput {
  @Field(() => ID)
  speakerId!: string;

  @Field(() => TrainingConfigInput, { nullable: true })
  config?: TrainingConfigInput | null;
}

@InputType('PredictAudioInput', { description: 'Exactly one field.' })
export class PredictAudioInput {
  @Field(() => ID, { nullable: true, description: 'An upload holding one audio or video file.' })
  uploadId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The audio of a dataset sample.' })
  sampleId?: string | null;
}

@InputType('PredictModelInput', { description: 'Exactly one field.' })
export class PredictModelInput {
  @Field(() => ID, { nullable: true, description: 'A training run (its best checkpoint).' })
  runId?: string | null;

  @Field(() => ID, { nullable: true })
  checkpointId?: string | null;
}

@InputType('RenderOptionsInput')
export class RenderOptionsInput {
  @Field(() => Int, { nullable: true, description: '16 to 3840; default 640.' })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: '16 to 2160; default 480.' })
  height?: number | null;

  @Field(() => Float, { nullable: true, description: '1 to 60; default 15.' })
  fps?: number | null;

  @Field(() => ID, { nullable: true, description: 'Draw this sample\'s ground-truth pose beside the prediction.' })
  groundTruthSampleId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Draw over the source video (audio from a sample only).' })
  overVideo?: boolean | null;
}

@InputType('PredictInput')
export class PredictInput {
  @Field(() => PredictAudioInput)
  audio!: PredictAudioInput;

  @Field(() => PredictModelInput)
  model!: PredictModelInput;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Also render the result into a video.' })
  render?: boolean | null;

  @Field(() => RenderOptionsInput, { nullable: true })
  renderOptions?: RenderOptionsInput | null;
}

@InputType('RenderInput')
export class RenderInput extends RenderOptionsInput {
  @Field(() => ID)
  resultId!: string;
}

@InputType('CreateTokenInput')
export class CreateTokenInput {
  @Field(() => String)
  name!: string;

  @Field(() => [TokenScopeEnum])
  scopes!: TokenScope[];

  @Field(() => DateTime, { nullable: true, description: 'When the token stops working; never when omitted.' })
  expiresAt?: Date | null;
}
