export * from './binaries';
export { mediaError } from './command';
export * from './probe';
export type { MediaInput } from './input';
export * from './audio';
export * from './video';
