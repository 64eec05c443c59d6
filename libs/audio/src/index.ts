export * from './params';
