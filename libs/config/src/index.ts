export * from './define';
export * from './docs';
export * from './shared';
