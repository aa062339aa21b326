export * from './params';
export * from './layers';
export * from './losses';
export * from './gpt2';
export * from './llama';
export * from './safetensors';
export * from './lm';
