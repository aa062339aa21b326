// Side-effect CSS imports in the webview bundle (esbuild emits them to dist/media/main.css).
declare module '*.css';
