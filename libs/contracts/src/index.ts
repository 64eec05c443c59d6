export * from './domain';
export * from './errors';
export * from './payloads';
export * from './messages';
