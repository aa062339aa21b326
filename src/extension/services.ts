// What the extension's parts share: settings, the runs folder, the runs this window started,
// the log channel, and a "runs changed" event that refreshes the trees.
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { RunHandle } from '../lab/runs/runner';
import type { RunRecord } from '../lab/runs/store';
import { lab } from './lab';
import { deviceOf, resolveRunsDir, threadsOf, type DeviceSetting } from './settings';

export class Services implements vscode.Disposable {
  /** Runs started by this window, by id (for Stop and the progress notification). */
  readonly active = new Map<string, RunHandle>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onRunsChanged = this.changed.event;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {}

  private cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('proxlab');
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  runsDir(): string {
    return resolveRunsDir({
      setting: this.cfg().get<string>('runsDir', ''),
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      globalStorage: this.context.globalStorageUri.fsPath,
      trusted: this.trusted,
      home: os.homedir(),
    });
  }

  device(): DeviceSetting {
    return deviceOf(this.cfg().get('device'));
  }

  threads(): number {
    return threadsOf(this.cfg().get('threads'), os.cpus().length);
  }

  defaultModel(): string {
    return this.cfg().get<string>('defaultModel', '').trim();
  }

  cliPath(): string {
    return vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'cli.js').fsPath;
  }

  mediaRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'media');
  }

  fireRunsChanged(): void {
    this.changed.fire();
  }

  async listRuns(): Promise<RunRecord[]> {
    const { RunStore } = await lab.store();
    return new RunStore(this.runsDir()).list();
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const { RunStore } = await lab.store();
    return new RunStore(this.runsDir()).get(id);
  }

  async runDir(id: string): Promise<string> {
    const { RunStore } = await lab.store();
    return new RunStore(this.runsDir()).dirOf(id);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
