export * from './types.js';
export * from './formats/index.js';
