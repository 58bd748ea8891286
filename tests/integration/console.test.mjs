// Zerovisor's console booted for real: build/zerovisor.efi under QEMU + OVMF (q35,
// -cpu EPYC) and under Bochs (corei7_skylake_x), driven by a startup.zv script.
// Dictionary texts are read from kernel/i18n so the test checks the exact UTF-8 bytes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = join(root, 'build/zerovisor.efi');
let dict;

const loadDictionaries = async () => {
  const out = await build({
    stdin: { contents: "export { en } from './en'; export { ja } from './ja'; export { zh } from './zh';", resolveDir: join(root, 'kernel/i18n'), loader: 'ts' },
    bundle: true, write: false, format: 'esm', platform: 'neutral', charset: 'utf8',
  });
  return import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
};

/** The vm topic's English texts (kernel/i18n/topics/vm.ts). */
const loadVmTexts = async () => {
  const out = await build({
    stdin: { contents: "export { vmEn } from './vm';", resolveDir: join(root, 'kernel/i18n/topics'), loader: 'ts' },
    bundle: true, write: false, format: 'esm', platform: 'neutral', charset: 'utf8',
  });
  return (await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'))).vmEn;
};

before(async () => {
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
  dict = await loadDictionaries();
});

const runScript = (runner, lines, extra = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-console-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain', runner), ['--timeout', '150', '--script', join(dir, 'startup.zv'), ...extra, efi], { encoding: 'buffer' });
  return { code: r.status, out: r.stdout.toString('utf8'), raw: r.stdout, err: r.stderr.toString('utf8') };
};

/** The part of the output after the echoed command `cmd` up to the next echoed command. */
const section = (out, prompt, cmd) => {
  const at = out.indexOf(prompt + cmd);
  assert.ok(at >= 0, `command "${cmd}" was not echoed after prompt "${prompt}":\n${out}`);
  return out.slice(at + prompt.length + cmd.length);
};

test('QEMU: help, lang ja, lang zh, mem, exit 3 from startup.zv', () => {
  const { code, out, raw } = runScript('uefi-run', ['help', 'lang ja', 'mem', 'lang zh', 'mem', 'lang en', 'exit 3']);
  assert.equal(code, 3, `exit code; output:\n${out}`);
  assert.match(out, /first prompt after \d+ TSC ticks/);

  const help = section(out, dict.en['console.prompt'], 'help');
  for (const name of ['help', 'version', 'lang', 'mem', 'clear', 'exit']) {
    assert.match(help, new RegExp(`^\\s+${name}\\s`, 'm'), `help does not list ${name}`);
  }
  assert.ok(help.includes(dict.en['cmd.mem.desc']));

  // Japanese and Chinese reach the serial console as exact UTF-8.
  for (const lang of ['ja', 'zh']) {
    const d = dict[lang];
    assert.ok(raw.includes(Buffer.from(d['lang.changed'], 'utf8')), `${lang}: "lang.changed" not on serial as UTF-8`);
    const mem = section(out, d['console.prompt'], 'mem');
    assert.ok(mem.includes(d['mem.type.7']), `${lang}: mem lacks the translated free-memory row`);
    assert.ok(mem.includes(d['mem.totalLabel']), `${lang}: mem lacks the translated total`);
  }
  // The free memory of a 512 MiB q35 guest: a few hundred MiB of conventional memory.
  const jaMem = section(out, dict.ja['console.prompt'], 'mem');
  const freeRow = jaMem.split(/\r?\n/).find(l => l.includes(dict.ja['mem.type.7']));
  const mib = Number(freeRow.trim().split(/\s+/)[2]);
  assert.ok(mib > 200 && mib < 512, `conventional memory ${mib} MiB`);
  assert.match(out, /ZEROVISOR-EXIT 3/);
});

test('QEMU: a bad command in startup.zv is reported with its line number and a suggestion', () => {
  const { code, out } = runScript('uefi-run', ['version', 'hepl', 'exit 300', 'exit 5']);
  assert.equal(code, 5, out);
  // each error whole, on the line after its echoed command, built from the dictionary
  const errorAt = (line) => dict.en['script.errorAt'].replace('{0}', 'startup.zv').replace('{1}', String(line));
  const lines = out.split(/\r?\n/);
  const after = (cmd) => lines[lines.indexOf(dict.en['console.prompt'] + cmd) + 1];
  assert.equal(after('hepl'), errorAt(2) + dict.en['console.unknownCommandSuggest'].replace('{0}', 'hepl').replace('{1}', 'help'));
  assert.equal(after('exit 300'), errorAt(3) + dict.en['exit.badCode'].replace('{0}', '300'));
});

test('Bochs (corei7_skylake_x): boots to the console and exits with the script code', () => {
  const { code, out } = runScript('bochs-run', ['version', 'exit 4'], ['--cpu', 'corei7_skylake_x']);
  assert.equal(code, 4, `exit code; output:\n${out}`);
  assert.match(out, /first prompt after \d+ TSC ticks/);
  assert.match(out, /version 0\.1\.0/);
});

/**
 * Boots under uefi-run with `lines` as startup.zv and drives its serial input: each step
 * waits until the output (after the previous step's match) matches `until`, then types `send`.
 * Resolves with the exit code and the whole output; fails a step after `stepSeconds`.
 */
const converse = (lines, files, steps, stepSeconds = 120) => new Promise((resolvePromise, reject) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-console-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const args = ['--timeout', '300', '--script', join(dir, 'startup.zv'), ...files.flatMap((f) => ['-f', f]), efi];
  const child = spawn(join(root, 'toolchain', 'uefi-run'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let from = 0;
  let step = 0;
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (step < steps.length) timer = setTimeout(() => { child.kill('SIGTERM'); reject(new Error(`step ${step}: no ${steps[step].until} in:\n${out}`)); }, stepSeconds * 1000);
  };
  const advance = () => {
    while (step < steps.length) {
      const m = steps[step].until.exec(out.slice(from));
      if (!m) return;
      from += m.index + m[0].length;
      child.stdin.write(steps[step].send);
      step++;
      arm();
    }
  };
  child.stdout.on('data', (d) => { out += d.toString('utf8'); advance(); });
  child.on('close', (code) => { clearTimeout(timer); resolvePromise({ code, out, step }); });
  arm();
});

test('QEMU: text typed at console <vm> reaches a halted guest as COM1 receive interrupts (IRQ 4 through the PIC), no polling', async () => {
  const guests = join(root, 'build/guests');
  const { code, out, step } = await converse([
    'vm create type --mem 4 --image \\irq.elf --cmdline type',
    'vm start type',
    'console type',
    'vm info type',
    'exit 6',
  ], [`${join(guests, 'irq.elf')}:irq.elf`], [
    { until: /type: ready\r?\n/, send: 'hello zerovisor\r' },
    { until: /type: got hello zerovisor via \d+ interrupts\r?\n/, send: 'again\r' },
    { until: /type: got again via \d+ interrupts\r?\n/, send: '\x1b' },
  ]);
  assert.equal(step, 3, out);
  assert.equal(code, 6, out);
  // the guest only reads the UART in its IRQ 4 handler: each line arrived through interrupts
  const first = Number(/type: got hello zerovisor via (\d+) interrupts/.exec(out)[1]);
  const second = Number(/type: got again via (\d+) interrupts/.exec(out)[1]);
  assert.ok(first >= 1 && second > first, `interrupts ${first}, then ${second}`);
  const info = section(out, dict.en['console.prompt'], 'vm info type');
  assert.match(info, /VM 1 "type": running/);
  assert.match(info, /vector 0x24 +\d+/, 'vm info counts IRQ 4\'s vector');
});

test('QEMU: console <vm> sends what is typed to the guest, shows its answer, and Esc detaches while it runs on', async () => {
  const guests = join(root, 'build/guests');
  const { code, out, step } = await converse([
    'vm create echo --mem 8 --image \\hello.elf --cmdline echo',
    'vm start echo',
    'console echo',
    'vm info echo',
    'exit 6',
  ], [`${join(guests, 'hello.elf')}:hello.elf`], [
    // typed while attached: the guest's line, not a Zerovisor command (line editing is the guest's)
    { until: /echo: type a line\r?\n/, send: 'vm list\r' },
    { until: /echo: got vm list\r?\n/, send: '\x1b' },
  ]);
  assert.equal(step, 2, out);
  assert.equal(code, 6, out);
  const vm = await loadVmTexts();
  const attached = vm['console.attached'].replace('{0}', '1').replace('{1}', 'echo');
  const detached = vm['console.detached'].replace('{0}', '1').replace('{1}', 'echo');
  const session = out.slice(out.indexOf(attached), out.indexOf(detached) + detached.length);
  assert.ok(out.includes(attached) && out.includes(detached), out);
  assert.match(session, /^vm list\r?$/m, 'the guest echoed the typed characters');
  assert.match(session, /^echo: got vm list\r?$/m, 'and got the whole line');
  assert.doesNotMatch(out, /^ +1 +echo +running/m, 'Zerovisor did not run "vm list" itself');
  // detached, the guest keeps running; the script goes on
  assert.match(section(out, dict.en['console.prompt'], 'vm info echo'), /VM 1 "echo": running/);
});
