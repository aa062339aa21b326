// Imported first by tests of modules that import 'vscode'.
import { register } from './mock-vscode';

export const moduleRequests = register();
