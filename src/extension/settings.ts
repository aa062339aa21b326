// Where runs live, and the other settings, as pure functions of the settings' values (so the
// rules are unit-tested without VS Code). DESIGN.md §4: default `.proxlab/runs` in the workspace,
// else the extension's global storage. In an untrusted workspace nothing of the workspace is read
// or executed: runs go to global storage and workspace model folders are not offered.
import { isAbsolute, join } from 'node:path';

export interface RunsDirInputs {
  /** proxlab.runsDir ('' = default). VS Code ignores a workspace value of it when untrusted. */
  setting: string;
  workspaceFolder?: string;
  globalStorage: string;
  trusted: boolean;
  home?: string;
}

export function resolveRunsDir(i: RunsDirInputs): string {
  const s = i.setting.trim();
  if (s) {
    const expanded = s.startsWith('~/') && i.home ? join(i.home, s.slice(2)) : s;
    if (isAbsolute(expanded)) return expanded;
    if (i.workspaceFolder && i.trusted) return join(i.workspaceFolder, expanded);
  }
  if (i.workspaceFolder && i.trusted) return join(i.workspaceFolder, '.proxlab', 'runs');
  return join(i.globalStorage, 'runs');
}

export type DeviceSetting = 'cpu' | 'cuda';

export function deviceOf(v: unknown): DeviceSetting {
  return v === 'cuda' ? 'cuda' : 'cpu';
}

/** proxlab.threads: 0 = one per core, but never more than 8 (small models gain little past that). */
export function threadsOf(v: unknown, cores: number): number {
  const n = typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
  return n || Math.max(1, Math.min(8, cores));
}
