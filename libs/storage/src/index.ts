export * from './object-store';
export * from './keys';
export * from './fs-object-store';
export * from './s3-object-store';
export * from './presign';
export * from './presigned-handler';
export * from './factory';
export { contentTypeOf, MAX_PRESIGN_SECONDS } from './body';
