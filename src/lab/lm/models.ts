// Model references: a bundled name (models/<name> in the package), a local folder, or — with
// network access — a Hugging Face Hub id, downloaded once into a cache folder.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../runs/package-root';
import { RECIPES } from './recipes';

export const BUNDLED_MODELS = Object.keys(RECIPES);
const HUB_ID = /^[\w\-.]+\/[\w\-.]{1,96}$/;

export function bundledModelDir(name: string): string {
  return join(packageRoot(), 'models', name);
}

/** The absolute folder for a model reference, without network access. Null when it is a Hub id not yet downloaded. */
export function resolveLocalModel(ref: string, hubCache = defaultHubCache()): string | null {
  if (BUNDLED_MODELS.includes(ref)) {
    const dir = bundledModelDir(ref);
    if (!existsSync(join(dir, 'config.json'))) throw new Error(`model ${ref}: bundled folder ${dir} is missing (run npm run train:base)`);
    return dir;
  }
  const asPath = isAbsolute(ref) ? ref : resolve(ref);
  if (existsSync(asPath)) {
    if (!statSync(asPath).isDirectory()) throw new Error(`model ${ref}: ${asPath} is a file, expected a model folder`);
    return asPath;
  }
  if (HUB_ID.test(ref)) {
    const cached = join(hubCache, ref.replace('/', '--'));
    return existsSync(join(cached, 'config.json')) ? cached : null;
  }
  throw new Error(`model ${ref}: not a bundled model (${BUNDLED_MODELS.join(', ')}), not an existing folder, not a Hub id (owner/name)`);
}

export function defaultHubCache(): string {
  return process.env.PROXLAB_HUB_CACHE ?? join(homedir(), '.cache', 'proxlab', 'hub');
}

const HUB_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
const OPTIONAL_HUB_FILES = ['generation_config.json'];

/** Resolve a reference, downloading a Hub model's config, tokenizer and safetensors weights when needed. */
export async function resolveModel(ref: string, opts: { hubCache?: string; fetchImpl?: typeof fetch } = {}): Promise<string> {
  const hubCache = opts.hubCache ?? defaultHubCache();
  const local = resolveLocalModel(ref, hubCache);
  if (local) return local;
  const dir = join(hubCache, ref.replace('/', '--'));
  // Download into a side folder and rename at the end: a half-downloaded model is never used.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const f = opts.fetchImpl ?? fetch;
  for (const file of [...HUB_FILES, ...OPTIONAL_HUB_FILES]) {
    const url = `https://huggingface.co/${ref}/resolve/main/${file}`;
    let res: Response;
    try {
      res = await f(url);
    } catch (e) {
      throw new Error(`model ${ref}: cannot download ${url} (${(e as Error).message}); offline, use a bundled model or a local folder`, { cause: e });
    }
    if (!res.ok) {
      if (OPTIONAL_HUB_FILES.includes(file)) continue;
      throw new Error(`model ${ref}: ${url} answered ${res.status}`);
    }
    writeFileSync(join(partial, file), Buffer.from(await res.arrayBuffer()));
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}
