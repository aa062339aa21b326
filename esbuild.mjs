// Bundles the extension, the CLI and the webview front end into dist/.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const external = ['vscode', 'onnxruntime-node', '@huggingface/transformers', '@huggingface/tokenizers', 'sharp', 'playwright-core'];
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'node20' };

const builds = [
  { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', external },
];
if (existsSync('src/lab/api.ts')) {
  // The lab for the extension host, loaded on first use (keeps activation cheap).
  builds.push({ ...common, entryPoints: ['src/lab/api.ts'], outfile: 'dist/lab.js', platform: 'node', format: 'cjs', external });
}
if (existsSync('src/extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external });
}
if (existsSync('media/main.ts')) {
  builds.push({ ...common, entryPoints: ['media/main.ts'], outfile: 'dist/media/main.js', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'css' } });
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
