export * from './codec.ts';
export * from './device-token.ts';
export * from './enrollment.ts';
export * from './ids.ts';
export * from './limits.ts';
export * from './live.ts';
export * from './schemas.ts';
export * from './topics.ts';
