export * from './logger';
export * from './http';
export * from './run';
export * from './cli';
export * from './platform';
