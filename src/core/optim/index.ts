export type { Optimizer } from './optimizer';
export { adamw, type AdamWOptions } from './adamw';
export { sgd, type SgdOptions } from './sgd';
export { globalNorm, clipByGlobalNorm, clipByGlobalNormInPlace } from './clip';
export * from './schedules';
export * from './train-step';
