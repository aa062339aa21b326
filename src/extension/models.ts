// Finding language-model folders (Hugging Face layout: config.json, tokenizer.json, onnx/...) for
// the Models tree and the model quick pick. Pure Node, unit-tested.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export type ModelSource = 'bundled' | 'trained' | 'local';

export interface ModelFolder {
  name: string;
  path: string;
  source: ModelSource;
  modelType?: string;
  /** Run id for models trained by a run. */
  runId?: string;
}

function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && (existsSync(join(dir, 'onnx')) || existsSync(join(dir, 'tokenizer.json')) || existsSync(join(dir, 'model.safetensors')));
}

function modelType(dir: string): string | undefined {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown };
    return typeof c.model_type === 'string' ? c.model_type : undefined;
  } catch {
    return undefined;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .map((n) => join(dir, n))
      .filter((p) => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Model folders at `dir` itself or below it, down to `depth` levels. */
export function findModelFolders(dir: string, source: ModelSource, depth = 2): ModelFolder[] {
  if (isModelFolder(dir)) return [{ name: basename(dir), path: dir, source, modelType: modelType(dir) }];
  if (depth <= 0) return [];
  return subdirs(dir).flatMap((d) => findModelFolders(d, source, depth - 1));
}

/** Models saved by runs: <runsDir>/<experiment>/<runId>/artifacts/**. */
export function findTrainedModels(runsDir: string): ModelFolder[] {
  const out: ModelFolder[] = [];
  for (const expDir of subdirs(runsDir)) {
    for (const runDir of subdirs(expDir)) {
      const art = join(runDir, 'artifacts');
      if (!existsSync(art)) continue;
      for (const m of findModelFolders(art, 'trained', 2)) {
        out.push({ ...m, name: `${basename(runDir)}/${m.name === 'artifacts' ? 'model' : m.name}`, runId: basename(runDir) });
      }
    }
  }
  return out;
}
