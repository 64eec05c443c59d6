/**
 * @s2g/prediction: gestures for any speech audio. Windowed prediction with a bounded model cache,
 * the result files, and the jobs of the inference and renderer services.
 */
export * from './config';
export * from './backend';
export { blendWeight, planWindows, predictWindowed } from './windows';
export type { PoseWindow, WindowOptions } from './windows';
export { ModelCache } from './model-cache';
export type { ModelCacheOptions, ModelCacheStats } from './model-cache';
export * from './pose-files';
export { meanNeck, moveNeckTo, poseFrameScale, resamplePoses } from './sequences';
export { checkAudio, loadInputAudio, loadSample, resolveModel, speakerStats } from './sources';
export type { InputAudio, LoadedSample, ResolvedModel } from './sources';
export { isPermanent } from './jobs';
export { DEFAULT_NECK_ORIGIN, InferenceService } from './inference-service';
export type { InferenceServiceDeps, JobContext, LoadedModel } from './inference-service';
export { GROUND_TRUTH_LABEL, PREDICTION_LABEL, RENDER_POSTER_FILE, RENDER_VIDEO_FILE, RenderService } from './render-service';
export type { RenderServiceDeps } from './render-service';
export * from './handlers';
