// A small fake of the `vscode` module for unit tests: enough API surface for activation, the
// tree views and the command handlers, with recording of what was registered and shown.
// register() makes `require('vscode')` return it (tsx runs the tests as CommonJS).
import Module from 'node:module';
import * as path from 'node:path';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.join(base.fsPath, ...parts));
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class MarkdownString {
  value = '';
  constructor(v = '', readonly supportThemeIcons = false) {
    this.value = v;
  }
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendCodeblock(s: string, lang = ''): this {
    this.value += `\n\`\`\`${lang}\n${s}\n\`\`\`\n`;
    return this;
  }
}
export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}
export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  resourceUri?: Uri;
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}
export class RelativePattern {
  constructor(
    readonly base: Uri,
    readonly pattern: string,
  ) {}
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}
export enum InputBoxValidationSeverity {
  Info = 1,
  Warning = 2,
  Error = 3,
}
export enum ViewColumn {
  Active = -1,
  One = 1,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
}

/** What the fake recorded; tests read and reset it. */
export const recorded = {
  commands: new Map<string, (...args: any[]) => unknown>(),
  executed: [] as { command: string; args: unknown[] }[],
  treeViews: new Map<string, { treeDataProvider: unknown }>(),
  serializers: new Map<string, unknown>(),
  messages: [] as { level: string; text: string; items: unknown[] }[],
  logs: [] as string[],
  settings: new Map<string, unknown>(),
  quickPickAnswers: [] as ((items: any[]) => unknown)[],
  inputAnswers: [] as (string | undefined)[],
  panels: [] as FakePanel[],
  /** Answers of modal/non-modal message buttons and save dialogs, in order. */
  buttonAnswers: [] as (string | undefined)[],
  saveAnswers: [] as (Uri | undefined)[],
  quickPickItems: [] as unknown[][],
  validations: [] as { input: string; message?: string }[],
  documents: [] as string[],
};

const disposable = { dispose() {} };
const log = (level: string) => (msg: string) => void recorded.logs.push(`${level}: ${msg}`);

export enum UIKind {
  Desktop = 1,
  Web = 2,
}
export const env = { uiKind: UIKind.Desktop, remoteName: undefined as string | undefined };

export const workspace = {
  getWorkspaceFolder(uri: Uri) {
    return workspace.workspaceFolders?.find((f) => uri.fsPath.startsWith(f.uri.fsPath + path.sep));
  },
  isTrusted: true,
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  getConfiguration(section: string) {
    return {
      get<T>(key: string, def?: T): T | undefined {
        const k = `${section}.${key}`;
        return recorded.settings.has(k) ? (recorded.settings.get(k) as T) : def;
      },
      async update(key: string, value: unknown) {
        recorded.settings.set(`${section}.${key}`, value);
      },
    };
  },
  createFileSystemWatcher() {
    return { onDidCreate: () => disposable, onDidChange: () => disposable, onDidDelete: () => disposable, dispose() {} };
  },
  onDidChangeConfiguration: () => disposable,
  onDidGrantWorkspaceTrust: () => disposable,
  onDidChangeWorkspaceFolders: () => disposable,
  async openTextDocument(opts: { content: string; language: string }) {
    recorded.documents.push(opts.content);
    return { uri: Uri.file('/untitled.md'), getText: () => opts.content };
  },
};

/** A fake webview panel: records posted messages; `receive` plays a message from the webview. */
export class FakePanel {
  posted: any[] = [];
  html = '';
  options: unknown;
  title: string;
  iconPath: unknown;
  disposed = false;
  private readonly onMessage = new EventEmitter<unknown>();
  private readonly onDispose = new EventEmitter<void>();
  readonly webview = {
    cspSource: 'https://fake.vscode-cdn.net',
    asWebviewUri: (u: Uri) => u,
    postMessage: async (m: unknown) => {
      this.posted.push(JSON.parse(JSON.stringify(m)));
      return true;
    },
    onDidReceiveMessage: this.onMessage.event,
    set html(v: string) {
      panelHtml.set(this, v);
    },
    get html() {
      return panelHtml.get(this) ?? '';
    },
    set options(v: unknown) {
      panelOptions.set(this, v);
    },
    get options() {
      return panelOptions.get(this);
    },
  };
  constructor(
    readonly viewType: string,
    title: string,
  ) {
    this.title = title;
  }
  onDidDispose = this.onDispose.event;
  receive(m: unknown): void {
    this.onMessage.fire(m);
  }
  reveal(): void {}
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose.fire();
  }
}
const panelHtml = new WeakMap<object, string>();
const panelOptions = new WeakMap<object, unknown>();

export const window = {
  createWebviewPanel(viewType: string, title: string) {
    const p = new FakePanel(viewType, title);
    recorded.panels.push(p);
    return p;
  },
  createOutputChannel(name: string) {
    return { name, info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('trace'), appendLine: log('line'), show() {}, dispose() {} };
  },
  createTreeView(id: string, opts: { treeDataProvider: unknown }) {
    recorded.treeViews.set(id, opts);
    return { dispose() {} };
  },
  registerWebviewPanelSerializer(viewType: string, s: unknown) {
    recorded.serializers.set(viewType, s);
    return disposable;
  },
  async showQuickPick(items: any[] | Promise<any[]>) {
    const list = await items;
    recorded.quickPickItems.push(list);
    const answer = recorded.quickPickAnswers.shift();
    return answer ? answer(list) : undefined;
  },
  async showSaveDialog() {
    return recorded.saveAnswers.shift();
  },
  async showOpenDialog() {
    return undefined;
  },
  async showInputBox(opts?: { validateInput?: (v: string) => unknown }) {
    const answer = recorded.inputAnswers.shift();
    if (answer !== undefined && opts?.validateInput) {
      const v = (await opts.validateInput(answer)) as { message?: string } | string | undefined;
      recorded.validations.push({ input: answer, message: typeof v === 'string' ? v : v?.message });
    }
    return answer;
  },
  async showInformationMessage(text: string, ...items: unknown[]) {
    recorded.messages.push({ level: 'info', text, items });
    return recorded.buttonAnswers.shift();
  },
  async showWarningMessage(text: string, ...items: unknown[]) {
    recorded.messages.push({ level: 'warn', text, items });
    return recorded.buttonAnswers.shift();
  },
  async showErrorMessage(text: string, ...items: unknown[]) {
    recorded.messages.push({ level: 'error', text, items });
    return recorded.buttonAnswers.shift();
  },
  setStatusBarMessage(text: string) {
    recorded.messages.push({ level: 'status', text, items: [] });
    return disposable;
  },
  async withProgress<T>(_opts: unknown, task: (p: { report(v: unknown): void }, token: { isCancellationRequested: boolean; onCancellationRequested: () => typeof disposable }) => Promise<T>) {
    return task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: () => disposable });
  },
  async showTextDocument() {
    return undefined;
  },
};

export const commands = {
  registerCommand(id: string, fn: (...args: any[]) => unknown) {
    if (recorded.commands.has(id)) throw new Error(`command '${id}' already registered`);
    recorded.commands.set(id, fn);
    return { dispose: () => recorded.commands.delete(id) };
  },
  async executeCommand(command: string, ...args: unknown[]) {
    recorded.executed.push({ command, args });
    const fn = recorded.commands.get(command);
    return fn ? fn(...args) : undefined;
  },
};

/** An ExtensionContext for a given extension folder and storage folder. */
export function fakeContext(extensionPath: string, storage: string) {
  return {
    subscriptions: [] as { dispose(): unknown }[],
    extensionUri: Uri.file(extensionPath),
    extensionPath,
    globalStorageUri: Uri.file(path.join(storage, 'global')),
    logUri: Uri.file(path.join(storage, 'log')),
    asAbsolutePath: (p: string) => path.join(extensionPath, p),
  };
}

export function reset(): void {
  recorded.commands.clear();
  recorded.executed = [];
  recorded.treeViews.clear();
  recorded.serializers.clear();
  recorded.messages = [];
  recorded.logs = [];
  recorded.settings.clear();
  recorded.quickPickAnswers = [];
  recorded.inputAnswers = [];
  recorded.panels = [];
  recorded.buttonAnswers = [];
  recorded.saveAnswers = [];
  recorded.quickPickItems = [];
  recorded.validations = [];
  recorded.documents = [];
  workspace.isTrusted = true;
  workspace.workspaceFolders = undefined;
}

const api = {
  EventEmitter, Uri, ThemeIcon, ThemeColor, MarkdownString, TreeItem, TreeItemCollapsibleState, RelativePattern,
  ProgressLocation, QuickPickItemKind, InputBoxValidationSeverity, ViewColumn, ConfigurationTarget, UIKind,
  env, workspace, window, commands,
};

/** Makes require('vscode') return this fake; returns the list of module requests seen. */
export function register(): string[] {
  const requests: string[] = [];
  const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = M._load;
  M._load = function (request: string, parent: unknown, isMain: boolean) {
    requests.push(request);
    if (request === 'vscode') return api;
    return original.call(this, request, parent, isMain);
  };
  return requests;
}
