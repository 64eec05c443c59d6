export * from './skeleton';
export * from './frames';
export * from './parse';
export * from './normalize';
export * from './linalg';
export * from './metrics';
export * from './baselines';
