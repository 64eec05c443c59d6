/**
 * @s2g/dataset: reading speakers' data in every supported layout into one description, cutting
 * training windows, packing them into shards, and generating synthetic speakers.
 */
export type { DatasetIssue, PoseFrame, ReadOptions, SourceInterval, SourceVideo, SpeakerSource } from './formats/types';
export { IssueLog, collectFrames } from './formats/types';
export { CsvParser, csvLine, parseCsv, readCsvRecords, readCsvTable } from './formats/csv';
export type { CsvRow } from './formats/csv';
export { formatFileTime, formatTimestamp, parseFileTime, parseTimestamp } from './formats/time';
export { encodeNpy, encodeNpz, parseNpy, parseNpz, toFloat32 } from './formats/npy';
export type { NpyArray, NpyData } from './formats/npy';
export { listS2gSpeakers, readS2gSpeaker } from './formats/s2g';
export type { S2gReadOptions } from './formats/s2g';
export { openPoseFrameIndex, readOpenPoseSpeaker, resampleFrames } from './formats/openpose';
export type { OpenPoseReadOptions, OpenPoseVideoInput, TimedValues } from './formats/openpose';
export { npzSample, readNpzSpeaker } from './formats/npz';
export type { NpzReadOptions, NpzSource } from './formats/npz';
export { DEFAULT_SHARD_MAX_BYTES, SHARD_MAGIC, SHARD_VERSION, ShardBuilder, decodeShard, encodeShard, packShards, readShardHeader } from './formats/shard';
export type { AudioEncoding, PackedShard, ShardHeader, ShardSampleMeta } from './formats/shard';
export { assignSplit, cutWindows, packPose, videoSamples, windowAudio, windowCount } from './windows';
export type { AudioInput, FrameWindow, WindowOptions, WindowSample } from './windows';
export { SYNTHETIC_VERSION, generateSyntheticSpeaker, planSyntheticSpeaker, synthesizeVideo } from './synthetic/generate';
export type {
  GenerateOptions,
  GeneratedSpeaker,
  GeneratedVideo,
  SyntheticSpeakerOptions,
  SyntheticSpeakerPlan,
  SyntheticVideo,
  SyntheticVideoPlan,
} from './synthetic/generate';
export { STYLE_PRESETS, resolveStyle } from './synthetic/style';
export type { SpeakerStyle, StylePreset } from './synthetic/style';
export { runSynthCli } from './synthetic/cli';
export * from './ingest';
