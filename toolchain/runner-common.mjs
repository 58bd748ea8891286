// What the emulator runners toolchain/uefi-run (QEMU) and toolchain/bochs-run (Bochs)
// share: the command-line shape, the process's temporary folder and exit, the files of
// the ESP (the app as EFI/BOOT/BOOTX64.EFI, or with --after the after-app there and the
// app as EFI/zerovisor/main.efi; --add-file, --script as \startup.zv), stopping the
// emulator, and finding "ZEROVISOR-EXIT <N>" (or "ZEROVISOR-AFTER <N>") lines in the serial output.
// Each runner formats its own image (QEMU: FAT32 on a virtio disk; Bochs: FAT16 with an
// ATA geometry) and drives its own emulator. Imported relative to the runner's own file,
// so the runners work from any working directory. Needs node >= 18 and mtools.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const EXIT_TIMEOUT = 124; // --timeout expired
export const EXIT_FAILURE = 125; // usage error, image build failure, emulator failure
/** The runner's status when it gets one of these signals: 128 + the signal number. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export class UsageError extends Error {}

// ---------------------------------------------------------------------------
// the runner process: its name in messages, its temporary folder, the terminal mode

let prog = 'runner';
let tmpDir = null;
let restoreTty = () => {};

/** Names the runner in messages; its temporary folder goes when the process exits. */
export function initRunner(name) {
  prog = name;
  process.on('exit', cleanup);
}

/** Restores the terminal (when the runner set raw mode) and removes the temporary folder. */
export function cleanup() {
  restoreTty();
  restoreTty = () => {};
  if (tmpDir) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* best effort */ }
    tmpDir = null;
  }
}

/** `restore` runs once at cleanup (the runner put the terminal in raw mode). */
export function onCleanupRestoreTty(restore) {
  restoreTty = restore;
}

/** Creates the runner's temporary folder (removed at exit). */
export function makeTempDir() {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prog}-`));
  return tmpDir;
}

export function die(msg, code = EXIT_FAILURE) {
  cleanup();
  process.stderr.write(`${prog}: ${msg}\n`);
  process.exit(code);
}

export function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch { return false; }
}

// ---------------------------------------------------------------------------
// command line

/**
 * Parses `argv` into `opts`: flags (`flags` maps each to the field of opts it sets true),
 * options with a value (`-x V`, `--opt V` or `--opt=V`; `values` maps each to the key that
 * `setValue(key, value)` gets, which may throw UsageError), one APP.efi (opts.app), and
 * everything after "--" (opts[restField]). `restName` says in errors what goes after "--";
 * `extraHint` ends the "more than one APP.efi" error.
 */
export function parseCommandLine(argv, { opts, flags, values, setValue, restField, restName, extraHint = '' }) {
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '--') { opts[restField] = argv.slice(i + 1); break; }
    if (Object.hasOwn(flags, arg)) { opts[flags[arg]] = true; continue; }
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const key = values[arg];
    if (key) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option ${arg} needs a value`);
        value = argv[++i];
      }
      setValue(key, value);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option '${argv[i]}' (${restName} go after '--'; see --help)`);
    }
    positional.push(arg);
  }
  if (opts.help) return opts;
  if (positional.length === 0) throw new UsageError('missing APP.efi');
  if (positional.length > 1) throw new UsageError(`expected one APP.efi, got: ${positional.join(' ')}${extraHint}`);
  opts.app = positional[0];
  return opts;
}

/**
 * The runner's options from process.argv through `parse` (which throws UsageError): exits
 * after printing `usage` for --help, and with status 125 on a usage error or when APP.efi
 * or the --script file does not exist.
 */
export function optionsOrExit(parse, usage) {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) die(`${e.message}\nTry '${prog} --help'.`);
    throw e;
  }
  if (opts.help) { process.stdout.write(usage); process.exit(0); }
  if (!isFile(opts.app)) die(`APP.efi not found: ${opts.app}`);
  if (opts.after !== null && !isFile(opts.after)) die(`--after: no such file: ${opts.after}`);
  if (opts.script !== null && !isFile(opts.script)) die(`--script: no such file: ${opts.script}`);
  return opts;
}

// ---------------------------------------------------------------------------
// ESP image

export const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

const PACKAGE_OF = { mformat: 'mtools', mmd: 'mtools', mcopy: 'mtools', 'mkfs.vfat': 'dosfstools' };

/** Runs a host tool; throws with its output when it fails. `what` names the job in errors. */
export function runTool(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: MTOOLS_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) {
    const pkg = PACKAGE_OF[path.basename(cmd)];
    throw new Error(`${what}: cannot run ${cmd}: ${r.error.code === 'ENOENT' ? `not found${pkg ? ` (install ${pkg})` : ''}` : r.error.message}`);
  }
  if (r.status !== 0) {
    const out = `${r.stderr}${r.stdout}`.trim();
    throw new Error(`${what}: ${cmd} ${args.join(' ')} failed${out ? `: ${out}` : ` (status ${r.status})`}`);
  }
}

/** Splits "HOST[:ESP_PATH]". ESP paths cannot contain ':', so split at the last one. */
function parseAddFile(spec) {
  if (fs.existsSync(spec)) return { host: spec, esp: null };
  const colon = spec.lastIndexOf(':');
  if (colon > 0) return { host: spec.slice(0, colon), esp: spec.slice(colon + 1) };
  return { host: spec, esp: null };
}

/** Normalises an ESP path to forward-slash components; trailing '/' means "into this directory". */
function espComponents(espPath, hostBase) {
  const intoDir = /[\\/]$/.test(espPath);
  const parts = espPath.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new Error(`--add-file: '..' is not allowed in ESP path '${espPath}'`);
  if (intoDir || parts.length === 0) parts.push(hostBase);
  return parts;
}

/** Where the app goes on the ESP when --after puts the after-app at EFI/BOOT/BOOTX64.EFI. */
export const MAIN_APP_ESP_PATH = ['EFI', 'zerovisor', 'main.efi'];

/** --after in both runners' help. */
export const AFTER_HELP = `\
      --after AFTER.efi   Let the app return to the firmware and end the run
                          when AFTER.efi says so: AFTER.efi becomes
                          \\EFI\\BOOT\\BOOTX64.EFI and APP.efi \\EFI\\zerovisor\\main.efi;
                          AFTER.efi starts APP.efi and, once it returns,
                          prints "ZEROVISOR-AFTER <N>"; the run ends there with
                          status N, and a "ZEROVISOR-EXIT" line does not end it.
                          (tests/runner/after.zig is such an app: it reports
                          what the app left behind, e.g. CR4.VMXE, EFER.SVME
                          and the firmware's network interface.)`;

/**
 * Copies onto the formatted FAT image `img`: the app as EFI/BOOT/BOOTX64.EFI (with
 * --after: opts.after there and the app at MAIN_APP_ESP_PATH), each --add-file
 * (opts.addFiles), and the --script file as \startup.zv. `what` names the image in
 * errors ("ESP", "disk").
 */
export function fillEsp(img, opts, what) {
  const made = new Set();
  const mkdirs = (parts) => {
    let cur = '';
    for (const p of parts) {
      cur += `/${p}`;
      const key = cur.toLowerCase();
      if (made.has(key)) continue;
      const r = spawnSync('mmd', ['-i', img, `::${cur}`], { encoding: 'utf8', env: MTOOLS_ENV });
      if (r.error) throw new Error(`${what}: cannot run mmd: ${r.error.message}`);
      // An already existing directory (e.g. created by a directory copy) is fine.
      if (r.status !== 0 && !/exists/i.test(`${r.stderr}${r.stdout}`)) {
        throw new Error(`${what}: mmd ::${cur} failed: ${`${r.stderr}${r.stdout}`.trim()}`);
      }
      made.add(key);
    }
  };
  const copy = (host, parts) => {
    mkdirs(parts.slice(0, -1));
    const dir = fs.statSync(host).isDirectory();
    runTool('mcopy', ['-i', img, '-o', ...(dir ? ['-s'] : []), host, `::/${parts.join('/')}`],
      `${what} (copying ${host})`);
    if (dir) made.add(`/${parts.join('/')}`.toLowerCase());
  };

  if (opts.after !== null) {
    copy(opts.after, ['EFI', 'BOOT', 'BOOTX64.EFI']);
    copy(opts.app, MAIN_APP_ESP_PATH);
  } else {
    copy(opts.app, ['EFI', 'BOOT', 'BOOTX64.EFI']);
  }
  for (const spec of opts.addFiles) {
    const { host, esp } = parseAddFile(spec);
    if (!fs.existsSync(host)) throw new Error(`--add-file: no such file or directory: ${host}`);
    const base = path.basename(path.resolve(host));
    copy(host, esp === null ? [base] : espComponents(esp, base));
  }
  if (opts.script !== null) copy(opts.script, ['startup.zv']);
}

// ---------------------------------------------------------------------------
// the emulator process

/**
 * stop(): SIGTERM to the child (`getChild()`, null before it runs), SIGKILL after `graceMs`
 * if it is still there; a detached child (`group`) is signalled as its whole process group.
 * cancel(): drops the pending SIGKILL.
 */
export function childStopper(getChild, { group, graceMs }) {
  let killTimer = null;
  const kill = (sig) => {
    const child = getChild();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (group) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch { /* already gone */ }
  };
  return {
    stop() {
      kill('SIGTERM');
      if (!killTimer) killTimer = setTimeout(() => kill('SIGKILL'), graceMs);
    },
    cancel() { clearTimeout(killTimer); },
  };
}

// ---------------------------------------------------------------------------
// serial output: finds "ZEROVISOR-EXIT <N>" lines (or with --after "ZEROVISOR-AFTER <N>",
// possibly preceded by terminal escape sequences) in the byte stream without altering it.

/** The line that ends a run: the app's exit line, or with --after the after-app's. */
export const endMarker = (opts) => (opts.after !== null ? 'ZEROVISOR-AFTER' : 'ZEROVISOR-EXIT');

/**
 * A function to feed serial chunks to; it calls onExitLine(N) for each line
 * "<marker> N" (N <= 255).
 */
export function makeLineScanner(onExitLine, marker = 'ZEROVISOR-EXIT') {
  const EXIT_LINE = new RegExp(`^(?:\\x1b\\[[0-9;=?]*[A-Za-z])*${marker} (\\d{1,3})[ \\t]*$`);
  let partial = '';
  return (chunk) => {
    const text = partial + chunk.toString('latin1');
    const lines = text.split(/\r\n|\r|\n/);
    partial = lines.pop();
    if (partial.length > 4096) partial = partial.slice(-4096);
    for (const line of lines) {
      const m = EXIT_LINE.exec(line);
      if (m && Number(m[1]) <= 255) onExitLine(Number(m[1]));
    }
  };
}
