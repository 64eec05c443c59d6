export * from './ports';
export * from './temp';
export * from './postgres';
export * from './s3';
export * from './nats';
export * from './fixtures';
export * from './app-process';
