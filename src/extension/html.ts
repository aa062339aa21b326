// The run panel's HTML: a strict Content-Security-Policy with a per-load nonce, the bundled
// script and styles from dist/media (the only local resource root). Pure, so it is unit-tested
// and reused by the standalone webview test.

/** A 32-character nonce from a CSPRNG (crypto.getRandomValues exists in Node 20 and browsers). */
export function makeNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[^A-Za-z0-9]/g, '').padEnd(32, 'x').slice(0, 32);
}

export function cspFor(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function panelHtml(opts: { cspSource: string; nonce: string; scriptUri: string; styleUri: string; title: string }): string {
  const { cspSource, nonce, scriptUri, styleUri, title } = opts;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(cspFor(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(styleUri)}" nonce="${nonce}">
<title>${escapeAttr(title)}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${escapeAttr(scriptUri)}"></script>
</body>
</html>`;
}
