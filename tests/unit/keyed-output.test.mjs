// Everything the console or the log shows comes from a dictionary (or, for the lines
// programs parse, from the constants in kernel/lib/markers.ts): a static check of the
// kernel sources (TypeScript syntax trees) that
//   - messages are written only as a key plus arguments, never with literal text;
//   - machine strings are written only from kernel/lib/markers.ts's constants;
//   - only the output writer and the log reach the host's output functions;
//   - every dictionary key is used, every key used is defined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../sim/harness.mjs';
import { dictionaries } from '../sim/dictionaries.mjs';

const listTs = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  if (statSync(p).isDirectory()) return listTs(p);
  return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
});

const sources = [...listTs(join(ROOT, 'kernel')), ...listTs(join(ROOT, 'drivers'))].map((path) => ({
  file: relative(ROOT, path),
  ast: ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true),
}));

/** Every call expression in the kernel: { file, line, name, call }. */
const calls = [];
const stringLiterals = [];
for (const { file, ast } of sources) {
  const visit = (node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.getText() : '';
      calls.push({ file, line: ast.getLineAndCharacterOfPosition(node.getStart()).line + 1, name, call: node });
    }
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) stringLiterals.push({ file, text: node.text });
    ts.forEachChild(node, visit);
  };
  visit(ast);
}
const where = (c) => `${c.file}:${c.line}`;

// Functions that write messages: (key, args...).
const MESSAGE_WRITERS = new Set(['say', 'sayInline', 'sayError', 'emitLine', 'emitInline', 'log', 'logQuiet', 'fatal', 'fmtAppend']);
// Where each raw output path may be used.
const RAW_OUTPUT = {
  hv_efi_con_out: ['kernel/console/output.ts'],
  hv_log_line: ['kernel/diag/log.ts'],
  hv_fatal: ['kernel/diag/log.ts'],
  hv_io_out8: ['drivers/uart.ts', 'kernel/main.ts'],
  uartWrite: ['kernel/console/output.ts'],
  writeFormattedLine: ['kernel/console/output.ts'],
  emitFormattedLine: ['kernel/diag/log.ts'],
  fmtAppendTemplate: ['kernel/lib/format.ts', 'kernel/console/output.ts', 'kernel/diag/log.ts'],
  echoText: ['kernel/console/editor.ts'],
  echoLeft: ['kernel/console/editor.ts'],
  echoRight: ['kernel/console/editor.ts'],
  echoEraseRight: ['kernel/console/editor.ts'],
  echoNewline: ['kernel/console/editor.ts'],
  echoBell: ['kernel/console/editor.ts'],
  print: [],
  printChar: [],
  'console.log': [],
};

const isTextLiteral = (n) => ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)
  || (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken && (isTextLiteral(n.left) || isTextLiteral(n.right)))
  || (ts.isParenthesizedExpression(n) && isTextLiteral(n.expression))
  || (ts.isConditionalExpression(n) && (isTextLiteral(n.whenTrue) || isTextLiteral(n.whenFalse)));

test('messages are written as a dictionary key plus arguments, never as literal text', async () => {
  const { en } = await dictionaries();
  const writes = calls.filter(c => MESSAGE_WRITERS.has(c.name));
  assert.ok(writes.length > 40, `only ${writes.length} message writes found`);
  const problems = [];
  for (const c of writes) {
    const keyIndex = c.name === 'log' || c.name === 'logQuiet' ? 2 : 0;
    const key = c.call.arguments[keyIndex];
    if (!key) {
      problems.push(`${where(c)}: ${c.name}() without a key`);
      continue;
    }
    // a key is a literal, or a choice between literal keys (cond ? 'a.key' : 'b.key')
    const literalKeys = (n) => ts.isStringLiteral(n) ? [n]
      : ts.isParenthesizedExpression(n) ? literalKeys(n.expression)
      : ts.isConditionalExpression(n) ? [literalKeys(n.whenTrue), literalKeys(n.whenFalse)].every(Boolean) ? [...literalKeys(n.whenTrue), ...literalKeys(n.whenFalse)] : null
      : null;
    const keys = literalKeys(key);
    if (keys) {
      for (const k of keys) if (!Object.hasOwn(en, k.text)) problems.push(`${where(c)}: key "${k.text}" is not in the dictionaries`);
    } else if (isTextLiteral(key)) {
      problems.push(`${where(c)}: ${c.name}() key is built text: ${key.getText()}`);
    }
    for (const a of c.call.arguments.slice(keyIndex + 1)) if (isTextLiteral(a)) problems.push(`${where(c)}: ${c.name}() argument is literal text: ${a.getText()}`);
  }
  assert.deepEqual(problems, []);
});

// Functions that write machine strings: the indexes of their arguments that must be
// constants of kernel/lib/markers.ts (the template; for the log also its JSON key).
const MARKER_WRITERS = { sayMarker: [0], logMarker: [2, 3] };

test('machine strings are written only from the constants of kernel/lib/markers.ts', async () => {
  const { markers } = await dictionaries();
  const writes = calls.filter(c => Object.hasOwn(MARKER_WRITERS, c.name));
  assert.ok(writes.length >= 2, `only ${writes.length} machine-string writes found`);
  const problems = [];
  for (const c of writes) {
    const constants = MARKER_WRITERS[c.name];
    for (const i of constants) {
      const a = c.call.arguments[i];
      if (!a || !ts.isIdentifier(a) || !Object.hasOwn(markers, a.text)) problems.push(`${where(c)}: ${c.name}() argument ${i} is not a constant of kernel/lib/markers.ts: ${a?.getText()}`);
    }
    for (const a of c.call.arguments.slice(Math.max(...constants) + 1)) if (isTextLiteral(a)) problems.push(`${where(c)}: ${c.name}() argument is literal text: ${a.getText()}`);
  }
  assert.deepEqual(problems, []);
});

test('the message writers take a MsgKey, so text without a key does not compile', () => {
  const output = sources.find(s => s.file === 'kernel/console/output.ts').ast;
  const signatures = {};
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isArrowFunction(node.initializer)) {
      const first = node.initializer.parameters[0];
      signatures[node.name.text] = first?.type?.getText();
    }
    ts.forEachChild(node, visit);
  };
  visit(output);
  assert.deepEqual({ say: signatures.say, sayInline: signatures.sayInline, sayError: signatures.sayError },
    { say: 'MsgKey', sayInline: 'MsgKey', sayError: 'MsgKey' });
});

test('only the output writer, the log and the UART driver reach raw output', () => {
  const problems = [];
  for (const c of calls) {
    const allowed = RAW_OUTPUT[c.name];
    if (allowed && !allowed.includes(c.file)) problems.push(`${where(c)}: ${c.name}() outside ${allowed.join(', ') || 'the kernel'}`);
  }
  assert.deepEqual(problems, []);
  // and port writes outside the UART driver go to isa-debug-exit only
  for (const c of calls.filter(c => c.name === 'hv_io_out8' && c.file === 'kernel/main.ts')) {
    assert.equal(c.call.arguments[0].getText(), 'DEBUG_EXIT_PORT', where(c));
  }
});

test('every dictionary key is used by the kernel', async () => {
  const { en } = await dictionaries();
  const used = new Set(stringLiterals.filter(s => !s.file.startsWith('kernel/i18n/')).map(s => s.text));
  assert.deepEqual(Object.keys(en).filter(k => !used.has(k)), []);
});
