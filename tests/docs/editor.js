#!/usr/bin/env node
// What an editor says about Tessera's files, checked with the language
// server VS Code's YAML extension runs (yaml-language-server), against the
// schemas of docs/schema:
//
//   node tests/docs/editor.js REPO
//
// 1. Every shipped rule and test file (rules/*/*.yaml) names its schema in
//    its `# yaml-language-server: $schema=...` line, and the server finds
//    nothing wrong in it.
// 2. docs/editors.md shows the diagnostics and completions of its example:
//    the file written after `<!-- doctest: file NAME -->`, the diagnostics
//    after `<!-- editor: diagnostics NAME -->` (one `LINE:COL: message` a
//    line), the completions after `<!-- editor: completions NAME LINE:COL -->`
//    (comma-separated).  The server must say exactly that.
//
// yaml-language-server comes from npm (tests/docs/package.json); without it
// this check is skipped (exit 77).
'use strict';
const fs = require('fs');
const path = require('path');

let yls, TextDocument, URI;
try {
  const base = path.join(__dirname, 'node_modules');
  yls = require(path.join(base, 'yaml-language-server/out/server/src/languageservice/yamlLanguageService'));
  ({ TextDocument } = require(path.join(base, 'vscode-languageserver-textdocument')));
  ({ URI } = require(path.join(base, 'vscode-uri')));
} catch (e) {
  console.log('editor.js: yaml-language-server is not installed (npm ci --prefix tests/docs); skipped');
  process.exit(77);
}

const repo = path.resolve(process.argv[2] || '.');
const ls = yls.getLanguageService({
  schemaRequestService: async (uri) => fs.readFileSync(URI.parse(uri).fsPath, 'utf8'),
  workspaceContext: {
    resolveRelativePath: (rel, res) =>
      URI.file(path.resolve(path.dirname(URI.parse(res).fsPath), rel)).toString(),
  },
});
ls.configure({ validate: true, completion: true, hover: true, isKubernetes: false });

let failures = 0;
function fail(msg) { console.log('FAIL ' + msg); failures++; }

function open(file, text) {
  return TextDocument.create(URI.file(file).toString(), 'yaml', 1, text);
}

async function diagnostics(file, text) {
  const d = await ls.doValidation(open(file, text), false);
  return d.map((x) => `${x.range.start.line + 1}:${x.range.start.character + 1}: ${x.message}`);
}

async function completions(file, text, line, col) {
  const c = await ls.doComplete(open(file, text), { line: line - 1, character: col - 1 }, false);
  return c.items.map((i) => i.label);
}

// The fenced block after the line matching `marker` in `lines`.
function blockAfter(lines, marker) {
  const i = lines.findIndex((l) => l.trim() === marker);
  if (i < 0) return null;
  let j = i + 1;
  while (j < lines.length && !lines[j].startsWith('```')) j++;
  let k = j + 1;
  while (k < lines.length && !lines[k].startsWith('```')) k++;
  return lines.slice(j + 1, k);
}

(async () => {
  // 1. shipped files
  const dirs = fs.readdirSync(path.join(repo, 'rules'), { withFileTypes: true }).filter((d) => d.isDirectory());
  let files = 0;
  for (const d of dirs) {
    for (const f of fs.readdirSync(path.join(repo, 'rules', d.name))) {
      if (!f.endsWith('.yaml')) continue;
      const file = path.join(repo, 'rules', d.name, f);
      const text = fs.readFileSync(file, 'utf8');
      const kind = f.endsWith('.test.yaml') ? 'test' : 'rules';
      const want = `# yaml-language-server: $schema=../../docs/schema/${kind}.schema.json`;
      if (text.split('\n')[0] !== want) fail(`rules/${d.name}/${f}: the first line is not \`${want}\``);
      for (const m of await diagnostics(file, text)) fail(`rules/${d.name}/${f}:${m}`);
      files++;
    }
  }
  // 2. the page
  const page = path.join(repo, 'docs', 'editors.md');
  const lines = fs.readFileSync(page, 'utf8').split('\n');
  let checks = 0;
  for (const l of lines) {
    let m = l.trim().match(/^<!-- editor: (diagnostics|completions) (\S+)(?: (\d+):(\d+))? -->$/);
    if (!m) continue;
    const [, what, name, line, col] = m;
    const body = blockAfter(lines, `<!-- doctest: file ${name} -->`);
    const shown = blockAfter(lines, l.trim());
    if (!body || !shown) { fail(`docs/editors.md: no file block \`${name}\` or no block after ${l.trim()}`); continue; }
    // the example names its schema relative to the page's scratch directory: resolve it from docs/
    const file = path.join(repo, 'docs', name);
    const text = body.join('\n').replace(/\$schema=\S+/, '$schema=schema/rules.schema.json') + '\n';
    const got = what === 'diagnostics' ? await diagnostics(file, text)
      : [(await completions(file, text, +line, +col)).join(', ')];
    const want = shown.filter((x) => x.trim() !== '');
    if (JSON.stringify(got) !== JSON.stringify(want))
      fail(`docs/editors.md: ${what} of ${name}:\n  shown:\n    ${want.join('\n    ')}\n  yaml-language-server says:\n    ${got.join('\n    ')}`);
    checks++;
  }
  if (checks === 0) fail('docs/editors.md: no `<!-- editor: ... -->` example');
  console.log(`editor.js: ${files} shipped files, ${checks} examples, ${failures} failures`);
  process.exit(failures ? 1 : 0);
})();
