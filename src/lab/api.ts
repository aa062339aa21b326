// The lab's surface for the extension, bundled separately as dist/lab.js so that activating the
// extension loads none of it; the extension requires it on first use (src/extension/lab.ts).
export * as store from './runs/store';
export * as runner from './runs/runner';
export * as config from './runs/config';
export * as registry from './runs/registry';
export * as methods from './runs/methods';
export * as claims from './runs/claims';
