// Imported first by extension.ts: the time our bundle started evaluating, for the activation
// time we log (module evaluation + activate()).
export const moduleStart = performance.now();
