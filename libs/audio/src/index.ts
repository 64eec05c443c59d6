export * from './params';
export * from './fft';
export * from './mel';
export * from './logmel';
export * from './wave';
export * from './wav';
export * from './onsets';
