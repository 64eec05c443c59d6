import type { Split } from '@s2g/contracts';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { SplitEnum } from '../enums';
import { connectionType, DateTime, SplitSecondsType } from './common';

@ObjectType('SpeakerNormalisation', {
  description: 'Per-value mean and standard deviation of the 98 neck-relative pose values over the training frames (49 keypoints, x then y).',
})
export class SpeakerNormalisationType {
  @Field(() => [Float])
  poseMean!: number[];

  @Field(() => [Float])
  poseStd!: number[];
}

@ObjectType('SpeakerStats', { description: 'What has been ingested for a speaker.' })
export class SpeakerStatsType {
  @Field(() => Int)
  videos!: number;

  @Field(() => Int)
  intervals!: number;

  @Field(() => Int)
  shards!: number;

  @Field(() => SplitSecondsType, { description: 'Clean footage per split.' })
  seconds!: SplitSecondsType;
}

@ObjectType('Speaker', { description: 'A person whose gestures are learnt.' })
export class SpeakerType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Stable handle, unique (e.g. `oliver`).' })
  name!: string;

  @Field(() => String)
  displayName!: string;

  @Field(() => Float, { description: 'Hours of clean interval footage ingested.' })
  hours!: number;

  @Field(() => Float, { nullable: true, description: 'Shoulder width relative to the reference speaker (drawing scale); null until ingested.' })
  scaleFactor!: number | null;

  @Field(() => Float, { nullable: true, description: 'Median shoulder width in pixels over training frames.' })
  shoulderWidth!: number | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;
}

@ObjectType('Video', { description: 'A source video of a speaker.' })
export class VideoType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  speakerId!: string;

  @Field(() => String, { description: 'The dataset\'s video file name; unique per speaker.' })
  name!: string;

  @Field(() => Float, { nullable: true })
  durationSeconds!: number | null;

  @Field(() => Float, { nullable: true, description: 'Pose frame rate.' })
  fps!: number | null;

  @Field(() => Int, { nullable: true })
  width!: number | null;

  @Field(() => Int, { nullable: true })
  height!: number | null;

  @Field(() => Int, { nullable: true })
  frameCount!: number | null;

  @Field(() => String, { nullable: true, description: 'Where the video came from, for attribution.' })
  link!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType('ShardLocation', { description: 'Where a sample\'s packed window is stored.' })
export class ShardLocationType {
  @Field(() => String, { description: 'Object key of the shard.' })
  key!: string;

  @Field(() => Int, { description: 'Position of the window within the shard.' })
  index!: number;
}

@ObjectType('Sample', { description: 'One 64-frame (about 4.3 s) training window of a speaker.' })
export class SampleType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  speakerId!: string;

  @Field(() => SplitEnum)
  split!: Split;

  @Field(() => Float, { description: 'Seconds from the start of the source video.' })
  startSeconds!: number;

  @Field(() => Float)
  endSeconds!: number;

  @Field(() => Int, { description: 'First pose frame within its interval.' })
  startFrame!: number;

  @Field(() => DateTime)
  createdAt!: Date;
}

export const SpeakerConnection = connectionType('Speaker', SpeakerType);
export const SampleConnection = connectionType('Sample', SampleType);
