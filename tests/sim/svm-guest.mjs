// A model of guests under AMD SVM for the simulated machine's `svmGuest` option: what the
// processor and a guest do between one VMRUN and the next #VMEXIT (AMD APM vol. 2 chapter
// 15; VMCB layout appendix B, exit codes appendix C). Each guest follows a script of
// actions, one #VMEXIT per action: the model writes the instruction's bytes at the guest's
// RIP (through the nested page tables), sets the registers it uses, and the exit code and
// information the hardware would give. At the next VMRUN of the same VMCB it reads what the
// kernel made of it (RIP, registers, an injected event) into the action's record, and
// checks that nothing else changed: every GPR, RFLAGS and XMM0 hold values unique to the
// guest and the step, so state of one guest showing up in another is seen at once.
//
// Actions:
//   { cpuid: [leaf, subleaf] }      0x72; RAX, RCX in
//   { out: [port, value, size] }    0x7B IOIO, EXITINFO1 as APM 15.10.2, EXITINFO2 = next RIP
//   { in: [port, size] }            0x7B, the same with TYPE = 1
//   { rdmsr: msr } / { wrmsr: [msr, value] }   0x7C, EXITINFO1 0 / 1
//   { hlt: { if: bool } }           0x78 with RFLAGS.IF as given
//   { vmmcall: true }               0x81
//   { npf: gpa, writes? }           0x400, EXITINFO2 = gpa; writes: registers the kernel may set (an MMIO load)
//   { shutdown: true }              0x7F (triple fault)
//   { intr: true }                  0x60 (a host interrupt; RIP stays)
//   { invalid: true }               EXIT_CODE = -1 (VMEXIT_INVALID)
//   { exit: code }                  any other exit code
//   { idle: true }                  HLT with IF = 1, again and again (the script never ends)
//   { vintr: true }                 0x64 VINTR: the guest can take the virtual interrupt the kernel
//                                   asked for (APM 15.21.4); RIP stays. A problem unless the VMRUN
//                                   before it had V_IRQ and the VINTR intercept set
//   { iret: true }                  0x74: the guest's NMI handler reaches its IRET (CF), intercepted
//                                   before it runs; RIP stays, the IRET runs at the next VMRUN and
//                                   ends the NMI's blocking. A problem unless the IRET intercept is set
//   { store: [gpa, value] }         no exit of its own: the guest writes the 32-bit value at gpa
//                                   through the nested tables and goes on to its next action;
//                                   a leaf without R/W makes it a nested page fault instead
//                                   (0x400, EXITINFO1 P|RW|US|final, EXITINFO2 = gpa, no code,
//                                   RIP stays) and the store runs again at the next VMRUN. A
//                                   store sets the leaf's A and D bits (APM 15.25.5) unless the
//                                   guest's TLB already holds the page as written: the TLB is
//                                   flushed only when a VMRUN has TLB_CONTROL set, so a kernel
//                                   that changes leaves without a flush loses writes.
// Options on any action: micros (how long the guest ran before the exit: the machine's
// clock moves on that much), bytes (the instruction's bytes; a default encoding otherwise),
// nextRip (what goes to NEXT_RIP; default RIP + length when the CPU has NRIPS, else 0),
// info1 / info2 (EXITINFO1/2 instead of the default), regs ({ rax: ... }: register values),
// cr0 / csAttrib / efer (guest state the guest set up before the instruction; it stays).
// flags: true lets the kernel change RFLAGS' arithmetic flags (an emulated ALU instruction on MMIO).
// if: true sets RFLAGS.IF at the exit (HLT's own `if` and `idle` do too); shadow: true sets the
// interrupt shadow (VMCB 0x68 bit 0: the exit came right after STI or MOV SS, APM 15.21.5);
// intInfo: EXITINTINFO (VMCB 0x88, APM 15.7.2: an event whose delivery the exit interrupted,
// error code in bits 63:32).
// After a #GP injected by the kernel, the guest's handler resumes after the instruction; after
// an interrupt or NMI, at the RIP the kernel entered with (the instruction was done).
// At each VMRUN the model reads what the kernel asked of the processor: EVENTINJ, V_IRQ (VMCB
// 0x60 bit 8), the VINTR and IRET intercepts, TSC_OFFSET and the interrupt shadow; they go into
// the outcome of the action the kernel handled and into g.vmruns (every VMRUN, the first too).
// The model tells (as problems) what a guest would suffer: an external interrupt injected while
// RFLAGS.IF is clear or in an interrupt shadow, an NMI injected while its handler runs (after an
// injected NMI, until its IRET ran).

export const VMCB = {
  INTERCEPT_MISC1: 0x00c, INTERCEPT_MISC2: 0x010, IOPM_BASE: 0x040, MSRPM_BASE: 0x048, TSC_OFFSET: 0x050, GUEST_ASID: 0x058,
  TLB_CONTROL: 0x05c, VINTR: 0x060, INTERRUPT_SHADOW: 0x068, EXIT_CODE: 0x070, EXIT_INFO1: 0x078, EXIT_INFO2: 0x080, EXIT_INT_INFO: 0x088, NP_CONTROL: 0x090,
  EVENT_INJECT: 0x0a8, NESTED_CR3: 0x0b0, NEXT_RIP: 0x0c8,
  CS: 0x410, EFER: 0x4d0, CR4: 0x548, CR3: 0x550, CR0: 0x558, RFLAGS: 0x570, RIP: 0x578, RSP: 0x5d8, RAX: 0x5f8,
};

export const EXIT = {
  INTR: 0x60n, NMI: 0x61n, VINTR: 0x64n, IRET: 0x74n, CPUID: 0x72n, HLT: 0x78n, IOIO: 0x7bn, MSR: 0x7cn, SHUTDOWN: 0x7fn, VMMCALL: 0x81n,
  NPF: 0x400n, INVALID: 0xffffffffffffffffn,
};

/** Vendor-neutral names of exits, as `vm info` and the metrics name them. */
export const REASONS = ['cpuid', 'io', 'msr', 'hlt', 'hypercall', 'npf', 'shutdown', 'interrupt', 'invalid', 'other', 'slice', 'window'];

const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4;
const M64 = 0xffffffffffffffffn;
const hex = (v) => `0x${BigInt(v).toString(16)}`;

// ---- physical memory through the machine (what the processor touches must be the kernel's pages) ----

const rd = (m, addr, len) => {
  const b = m.ownedRead(BigInt(addr), len, 'the processor (a nested page-table walk or a guest load)');
  let v = 0n;
  for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};
const wr = (m, addr, len, value) => {
  const b = new Uint8Array(len);
  let v = BigInt.asUintN(len * 8, BigInt(value));
  for (let i = 0; i < len; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  m.ownedWrite(BigInt(addr), b, 'the processor (nested page-table A/D bits or a guest store)');
};

const ADDR = 0x000ffffffffff000n; // bits 12-51 of a table entry

/**
 * Guest-physical to host-physical through the nested page tables at nCR3 (4-level long-mode
 * format, APM vol. 2 section 5.3, 2 MiB and 1 GiB leaves): { hpa, flags } or null.
 */
export const nptTranslate = (m, ncr3, gpa) => {
  let table = BigInt(ncr3) & ADDR;
  gpa = BigInt(gpa);
  let flags = 7n;
  for (let level = 4; level >= 1; level--) {
    const shift = 12n + 9n * BigInt(level - 1);
    const e = rd(m, table + ((gpa >> shift) & 511n) * 8n, 8);
    if ((e & 1n) === 0n) return null;
    flags &= e & 7n;
    if (level === 1 || ((level === 2 || level === 3) && (e & 0x80n) !== 0n)) {
      const size = 1n << shift;
      return { hpa: (e & ADDR & ~(size - 1n)) + (gpa & (size - 1n)), flags, leaf: table + ((gpa >> shift) & 511n) * 8n, size };
    }
    table = e & ADDR;
  }
  return null;
};

/** Every mapping of the nested page tables, merged where contiguous: [{ gpa, hpa, bytes, flags (P, R/W, U/S), nx }]. */
export const nptMappings = (m, ncr3) => {
  const out = [];
  const walk = (table, level, base) => {
    const shift = 12n + 9n * BigInt(level - 1);
    const page = m.physRead(table, 4096);
    const dv = new DataView(page.buffer);
    for (let i = 0; i < 512; i++) {
      const e = dv.getBigUint64(i * 8, true);
      if ((e & 1n) === 0n) continue;
      const gpa = base + (BigInt(i) << shift);
      if (level === 1 || ((level === 2 || level === 3) && (e & 0x80n) !== 0n)) {
        const bytes = 1n << shift;
        const hpa = e & ADDR & ~(bytes - 1n);
        const flags = e & 0x7n;
        const nx = (e >> 63n) === 1n;
        const last = out.at(-1);
        if (last && last.gpa + last.bytes === gpa && last.hpa + last.bytes === hpa && last.flags === flags && last.nx === nx) last.bytes += bytes;
        else out.push({ gpa, hpa, bytes, flags, nx });
      } else walk(e & ADDR, level - 1, gpa);
    }
  };
  walk(BigInt(ncr3) & ADDR, 4, 0n);
  return out;
};

// ---- instruction encodings (Intel SDM vol. 2, 32-bit operand size) ----

const ioBytes = (input, port, size) => {
  const imm = port < 256;
  const op = (input ? (imm ? 0xe4 : 0xec) : (imm ? 0xe6 : 0xee)) + (size === 1 ? 0 : 1);
  return [...(size === 2 ? [0x66] : []), op, ...(imm ? [port] : [])];
};

/** One OUT per byte of `text` to COM1's THR (0x3F8). */
export const com1 = (text) => [...Buffer.from(text, 'utf8')].map((b) => ({ out: [0x3f8, b, 1] }));

/** The kind of an action, its default bytes, exit code, information and the GPRs the kernel may write. */
const decodeAction = (a) => {
  if (a.cpuid) return { kind: 'cpuid', bytes: [0x0f, 0xa2], code: EXIT.CPUID, writes: [RAX, RBX, RCX, RDX] };
  if (a.out) {
    const [port, , size = 1] = a.out;
    return { kind: 'out', bytes: ioBytes(false, port, size), code: EXIT.IOIO, writes: [], io: { port, size, input: false } };
  }
  if (a.in) {
    const [port, size = 1] = a.in;
    return { kind: 'in', bytes: ioBytes(true, port, size), code: EXIT.IOIO, writes: [RAX], io: { port, size, input: true } };
  }
  if (a.rdmsr !== undefined) return { kind: 'rdmsr', bytes: [0x0f, 0x32], code: EXIT.MSR, writes: [RAX, RDX] };
  if (a.wrmsr) return { kind: 'wrmsr', bytes: [0x0f, 0x30], code: EXIT.MSR, writes: [] };
  if (a.hlt) return { kind: 'hlt', bytes: [0xf4], code: EXIT.HLT, writes: [] };
  if (a.idle) return { kind: 'hlt', bytes: [0xf4], code: EXIT.HLT, writes: [] };
  if (a.vintr) return { kind: 'vintr', bytes: [], code: EXIT.VINTR, writes: [] };
  if (a.iret) return { kind: 'iret', bytes: [0xcf], code: EXIT.IRET, writes: [] };
  if (a.vmmcall) return { kind: 'vmmcall', bytes: [0x0f, 0x01, 0xd9], code: EXIT.VMMCALL, writes: [RAX] };
  if (a.npf !== undefined) return { kind: 'npf', bytes: [0x8b, 0x00], code: EXIT.NPF, writes: (a.writes ?? []).map((n) => REG_NAMES.indexOf(n)) }; // mov eax, [eax]
  if (a.shutdown) return { kind: 'shutdown', bytes: [], code: EXIT.SHUTDOWN, writes: [] };
  if (a.intr) return { kind: 'intr', bytes: [], code: EXIT.INTR, writes: [] };
  if (a.invalid) return { kind: 'invalid', bytes: [], code: EXIT.INVALID, writes: [] };
  if (a.exit !== undefined) return { kind: 'exit', bytes: [], code: BigInt(a.exit), writes: [] };
  throw new Error(`svm-guest: unknown action ${JSON.stringify(a, (k, v) => (typeof v === 'bigint' ? hex(v) : v))}`);
};

/** The vendor-neutral reason of an SVM exit code (what `vm info` counts it as). */
export const reasonOf = (code) => {
  switch (code) {
    case EXIT.CPUID: return 'cpuid';
    case EXIT.IOIO: return 'io';
    case EXIT.MSR: return 'msr';
    case EXIT.HLT: return 'hlt';
    case EXIT.VMMCALL: return 'hypercall';
    case EXIT.NPF: return 'npf';
    case EXIT.SHUTDOWN: return 'shutdown';
    case EXIT.INTR: case EXIT.NMI: return 'interrupt';
    case EXIT.VINTR: case EXIT.IRET: return 'window';
    case EXIT.INVALID: return 'invalid';
  }
  return 'other';
};

/** Whether the machine's CPU has NRIPS (CPUID Fn8000_000A EDX bit 3). */
const hasNrips = (m) => ((m.cpu.cpuid['0x8000000a:0x0'] ?? m.cpu.cpuid['0x8000000a'] ?? [0, 0, 0, 0])[3] & 8) !== 0;

/**
 * The guests of one machine.
 * @param {(info: {index: number, cmdline: string|null, entry: object}) => Array<object>} script
 *   the actions of each new guest (a VMCB seen for the first time, or one the kernel cleared),
 *   by the order it first ran in and its Multiboot command line
 */
export class SvmGuests {
  constructor(script) {
    this.script = script;
    this.guests = [];
    this.byVmcb = new Map();
    this.problems = [];
    this.runs = []; // guest index of every VMRUN, in order
    this.runTicks = []; // and the machine's TSC ticks since boot then
    this.handler = (run) => this.#run(run);
  }

  #problem(g, text) {
    this.problems.push(`guest ${g ? g.index : '?'}${g?.cmdline ? ` (${g.cmdline})` : ''}: ${text}`);
  }

  #run({ machine: m, vmcbKey: vmcb, vmcb: page, gprs, fx }) {
    // the VMCB page (bytes of the kernel's linear memory, little-endian fields)
    const f = (off, len = 8) => {
      let v = 0n;
      for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(page[off + i]);
      return v;
    };
    const set = (off, value, len = 8) => {
      let v = BigInt.asUintN(len * 8, BigInt(value));
      for (let i = 0; i < len; i++, v >>= 8n) page[off + i] = Number(v & 0xffn);
    };
    const code = f(VMCB.EXIT_CODE);
    if (page[VMCB.TLB_CONTROL] !== 0) for (const x of this.guests) x.tlb.clear(); // APM 15.16: flush all
    let g = this.byVmcb.get(vmcb);
    if (code === 0n) g = this.#newGuest(m, vmcb, gprs, fx, f);
    else if (!g) {
      g = this.#newGuest(m, vmcb, gprs, fx, f);
      this.#problem(g, `VMRUN of a VMCB (${hex(vmcb)}) that holds an old exit (${hex(code)}) but never ran`);
    } else this.#resumed(g, m, vmcb, gprs, fx, f, set);
    this.runs.push(g.index);
    this.runTicks.push(Math.round(m.seconds * 3e9));
    this.#entered(g, m, f, set);
    g.runs++;
    this.#next(g, m, vmcb, gprs, fx, f, set);
  }

  #newGuest(m, vmcb, gprs, fx, f) {
    const ncr3 = f(VMCB.NESTED_CR3);
    const entry = {
      rip: f(VMCB.RIP), rax: f(VMCB.RAX), rsp: f(VMCB.RSP), rflags: f(VMCB.RFLAGS), gprs: [...gprs],
      cr0: f(VMCB.CR0), cr3: f(VMCB.CR3), cr4: f(VMCB.CR4), efer: f(VMCB.EFER),
      cs: { selector: Number(f(VMCB.CS, 2)), attrib: Number(f(VMCB.CS + 2, 2)), limit: Number(f(VMCB.CS + 4, 4)), base: f(VMCB.CS + 8) },
      asid: Number(f(VMCB.GUEST_ASID, 4)), ncr3, npEnable: Number(f(VMCB.NP_CONTROL, 4)) & 1,
      misc1: Number(f(VMCB.INTERCEPT_MISC1, 4)), misc2: Number(f(VMCB.INTERCEPT_MISC2, 4)),
      iopm: f(VMCB.IOPM_BASE), msrpm: f(VMCB.MSRPM_BASE), eventInject: f(VMCB.EVENT_INJECT),
      fcw: fx[0] | (fx[1] << 8), mxcsr: fx[24] | (fx[25] << 8) | (fx[26] << 16) | (fx[27] << 24),
    };
    const g = {
      index: this.guests.length, vmcb, ncr3, asid: entry.asid, entry, cmdline: null, mbInfo: null,
      actions: [], next: 0, records: [], runs: 0, exits: Object.fromEntries(REASONS.map((r) => [r, 0])),
      pending: null, regs: null, rip: entry.rip, tlb: new Map(), stores: 0, storeFaults: 0,
      vmruns: [], nmiBlocked: false,
    };
    // Multiboot 0.6.96 section 3.3: EBX holds the information structure's address
    const info = this.#gpaRead(m, g, entry.gprs[RBX] & 0xffffffffn, 24);
    if (info) {
      const dv = new DataView(info.buffer);
      g.mbInfo = { flags: dv.getUint32(0, true), memLower: dv.getUint32(4, true), memUpper: dv.getUint32(8, true), cmdline: dv.getUint32(16, true) };
      if (g.mbInfo.flags & 4) g.cmdline = this.#gpaString(m, g, BigInt(g.mbInfo.cmdline));
    }
    this.guests.push(g);
    this.byVmcb.set(vmcb, g);
    g.actions = this.script({ index: g.index, cmdline: g.cmdline, entry }) ?? [];
    return g;
  }

  #gpaRead(m, g, gpa, len) {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const t = nptTranslate(m, g.ncr3, BigInt(gpa) + BigInt(i));
      if (!t) return null;
      out[i] = m.ownedRead(t.hpa, 1, 'the guest (a read of its RAM)')[0];
    }
    return out;
  }

  #gpaString(m, g, gpa) {
    const bytes = [];
    for (let i = 0; i < 4096; i++) {
      const b = this.#gpaRead(m, g, gpa + BigInt(i), 1);
      if (!b || b[0] === 0) break;
      bytes.push(b[0]);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  #gpaWrite(m, g, gpa, bytes) {
    for (let i = 0; i < bytes.length; i++) {
      const t = nptTranslate(m, g.ncr3, BigInt(gpa) + BigInt(i));
      if (!t) {
        this.#problem(g, `the guest's code at guest-physical ${hex(BigInt(gpa) + BigInt(i))} is not mapped`);
        return;
      }
      m.ownedWrite(t.hpa, Uint8Array.of(bytes[i]), 'the guest (a write to its RAM)');
    }
  }

  /** The kernel handled g's last exit: what it did goes into the record; anything else it changed is a problem. */
  #resumed(g, m, vmcb, gprs, fx, f, set) {
    if (f(VMCB.NESTED_CR3) !== g.ncr3) this.#problem(g, `nCR3 changed from ${hex(g.ncr3)} to ${hex(f(VMCB.NESTED_CR3))}`);
    if (Number(f(VMCB.GUEST_ASID, 4)) !== g.asid) this.#problem(g, `ASID changed from ${g.asid} to ${f(VMCB.GUEST_ASID, 4)}`);
    const now = [...gprs];
    now[RAX] = f(VMCB.RAX);
    now[RSP] = f(VMCB.RSP);
    const rip = f(VMCB.RIP);
    const rflags = f(VMCB.RFLAGS);
    const ev = f(VMCB.EVENT_INJECT);
    const r = g.pending;
    if (!r) return;
    const out = {
      rip, advance: Number(rip - r.rip), regs: Object.fromEntries(REG_NAMES.map((n, i) => [n, now[i]])), rflags,
      efer: f(VMCB.EFER), eventInject: ev, injected: null,
    };
    if ((ev >> 31n) & 1n) {
      out.injected = { vector: Number(ev & 0xffn), type: Number((ev >> 8n) & 7n), ev: Number((ev >> 11n) & 1n), errorCode: Number(ev >> 32n) };
    }
    r.outcome = out;
    const exception = out.injected && out.injected.type === 3; // the instruction did not complete
    const writable = exception ? [] : r.writes;
    for (let i = 0; i < 16; i++) {
      if (!writable.includes(i) && now[i] !== r.before[i]) {
        this.#problem(g, `step ${r.step} (${r.kind}): ${REG_NAMES[i]} changed from ${hex(r.before[i])} to ${hex(now[i])}`);
      }
    }
    const flagsMay = r.action.flags && ((rflags ^ r.rflags) & ~0x8d5n) === 0n; // an emulated ALU instruction: CF, PF, AF, ZF, SF, OF
    if (rflags !== r.rflags && !flagsMay) this.#problem(g, `step ${r.step} (${r.kind}): RFLAGS changed from ${hex(r.rflags)} to ${hex(rflags)}`);
    const xmm0 = fx.slice(160, 176);
    if (Buffer.compare(Buffer.from(xmm0), Buffer.from(r.xmm0)) !== 0) {
      this.#problem(g, `step ${r.step} (${r.kind}): XMM0 changed from ${Buffer.from(r.xmm0).toString('hex')} to ${Buffer.from(xmm0).toString('hex')}`);
    }
    g.regs = now;
    g.rip = rip;
    if (out.injected) {
      // delivered; after an exception the guest's handler returns past the instruction (like
      // tests/guests/probe), after an interrupt or NMI to where it was
      if (exception) g.rip = r.rip + BigInt(r.len);
    }
  }

  /** What this VMRUN asks of the processor for g (g.vmruns), and what a guest would suffer from it (problems). */
  #entered(g, m, f, set) {
    const ev = f(VMCB.EVENT_INJECT);
    const misc1 = Number(f(VMCB.INTERCEPT_MISC1, 4));
    const vintr = Number(f(VMCB.VINTR, 4));
    const rflags = f(VMCB.RFLAGS);
    const shadow = Number(f(VMCB.INTERRUPT_SHADOW) & 1n);
    const run = {
      ticks: Math.round(m.seconds * 3e9), hostTsc: m.bootTsc + BigInt(Math.round(m.seconds * 3e9)),
      eventInject: ev, injected: null, vIrq: (vintr >> 8) & 1, vintr, vintrIntercept: (misc1 >> 4) & 1, iretIntercept: (misc1 >> 20) & 1,
      tscOffset: f(VMCB.TSC_OFFSET), shadow, rflags,
    };
    if ((ev >> 31n) & 1n) {
      run.injected = { vector: Number(ev & 0xffn), type: Number((ev >> 8n) & 7n), ev: Number((ev >> 11n) & 1n), errorCode: Number(ev >> 32n) };
      const step = g.records.length;
      if (run.injected.type === 0 && ((rflags & 0x200n) === 0n || shadow !== 0)) {
        this.#problem(g, `VMRUN after step ${step - 1}: external interrupt ${hex(run.injected.vector)} injected with ${(rflags & 0x200n) === 0n ? 'RFLAGS.IF clear' : 'an interrupt shadow'}`);
      }
      if (run.injected.type === 2 && g.nmiBlocked) {
        this.#problem(g, `VMRUN after step ${step - 1}: NMI injected while the guest's NMI handler runs (before its IRET)`);
      }
      set(VMCB.EVENT_INJECT, 0n); // delivered: the processor consumes it
    }
    const r = g.pending;
    // the event goes in first (APM 15.20); then an intercepted IRET runs and ends an NMI's blocking (15.21.4)
    if (r?.kind === 'iret') g.nmiBlocked = false;
    if (run.injected?.type === 2) g.nmiBlocked = true;
    g.vmruns.push(run);
    if (r?.outcome) Object.assign(r.outcome, { vIrq: run.vIrq, vintrIntercept: run.vintrIntercept, iretIntercept: run.iretIntercept, tscOffset: run.tscOffset, shadow });
  }

  /** A guest store of 32 bits at gpa (see `store` above); false when it faults. */
  #store(m, g, gpa, value) {
    gpa = BigInt(gpa);
    const page = gpa >> 12n;
    let t = g.tlb.get(page);
    if (!t) {
      const w = nptTranslate(m, g.ncr3, gpa);
      if (!w) {
        this.#problem(g, `store to guest-physical ${hex(gpa)}, which is not mapped`);
        return true;
      }
      if ((w.flags & 2n) === 0n) return false; // a faulting translation is not cached
      t = { hpa: w.hpa - (gpa & 0xfffn), leaf: w.leaf, dirty: false };
      g.tlb.set(page, t);
    }
    if (!t.dirty) {
      wr(m, t.leaf, 8, rd(m, t.leaf, 8) | 0x60n);
      t.dirty = true;
    }
    wr(m, t.hpa + (gpa & 0xfffn), 4, value);
    g.stores++;
    return true;
  }

  #next(g, m, vmcb, gprs, fx, f, set) {
    let a;
    for (;;) {
      if (g.next < g.actions.length) {
        a = g.actions[g.next];
        if (!a.idle) g.next++;
      } else {
        this.#problem(g, `ran past the end of its script (${g.actions.length} actions)`);
        a = { hlt: { if: false } };
      }
      if (!a.store) break;
      if (this.#store(m, g, a.store[0], a.store[1])) continue;
      g.next--; // runs again after the kernel handled the fault
      g.storeFaults++;
      a = { npf: a.store[0], info1: 0x100000007n, bytes: [] };
      break;
    }
    const d = decodeAction(a);
    if (d.kind === 'vintr' && !((Number(f(VMCB.VINTR, 4)) >> 8) & 1 && (Number(f(VMCB.INTERCEPT_MISC1, 4)) >> 4) & 1)) {
      this.#problem(g, `step ${g.records.length} (vintr): a VINTR exit, but the VMRUN had no V_IRQ with the VINTR intercept`);
    }
    if (d.kind === 'iret' && !((Number(f(VMCB.INTERCEPT_MISC1, 4)) >> 20) & 1)) {
      this.#problem(g, `step ${g.records.length} (iret): an IRET exit, but the VMRUN did not intercept IRET`);
    }
    if (a.micros) m.stallMicros += a.micros;
    const step = g.records.length;
    // the guest's code between exits: fresh values in every register, unique to guest and step
    const tag = BigInt(g.index + 1);
    const regs = REG_NAMES.map((_, i) => (tag << 56n) | (0x5a5an << 40n) | (BigInt(step) << 8n) | BigInt(i));
    const bytes = a.bytes ?? d.bytes;
    const rip = g.rip;
    let info1 = 0n, info2 = 0n;
    let rflags = 0x2n | (a.idle || a.hlt?.if || a.if ? 0x200n : 0n);
    if (d.kind === 'cpuid') {
      const [leaf, subleaf = 0] = a.cpuid;
      regs[RAX] = (regs[RAX] & ~0xffffffffn) | BigInt(leaf >>> 0);
      regs[RCX] = (regs[RCX] & ~0xffffffffn) | BigInt(subleaf >>> 0);
    } else if (d.io) {
      const { port, size, input } = d.io;
      if (!input) {
        const mask = (1n << BigInt(size * 8)) - 1n;
        regs[RAX] = (regs[RAX] & ~mask) | (BigInt(a.out[1]) & mask);
      }
      if (port >= 256) regs[RDX] = (regs[RDX] & ~0xffffn) | BigInt(port);
      // APM 15.10.2: TYPE (IN), SZ8/16/32, A32, port in bits 16-31
      info1 = BigInt(port) << 16n | (input ? 1n : 0n) | (size === 1 ? 0x10n : size === 2 ? 0x20n : 0x40n) | 0x100n;
      info2 = rip + BigInt(bytes.length);
    } else if (d.kind === 'rdmsr') {
      regs[RCX] = (regs[RCX] & ~0xffffffffn) | BigInt(a.rdmsr >>> 0);
    } else if (d.kind === 'wrmsr') {
      const [msr, value] = a.wrmsr;
      const v = BigInt(value);
      regs[RCX] = (regs[RCX] & ~0xffffffffn) | BigInt(msr >>> 0);
      regs[RAX] = (regs[RAX] & ~0xffffffffn) | (v & 0xffffffffn);
      regs[RDX] = (regs[RDX] & ~0xffffffffn) | ((v >> 32n) & 0xffffffffn);
      info1 = 1n;
    } else if (d.kind === 'npf') {
      info1 = 0x100000004n; // user access to a page not present, during the final translation
      info2 = BigInt(a.npf);
    }
    if (a.info1 !== undefined) info1 = BigInt(a.info1);
    if (a.info2 !== undefined) info2 = BigInt(a.info2);
    for (const [k, v] of Object.entries(a.regs ?? {})) regs[REG_NAMES.indexOf(k)] = BigInt(v) & M64;
    if (a.cr0 !== undefined) set(VMCB.CR0, BigInt(a.cr0));
    if (a.efer !== undefined) set(VMCB.EFER, BigInt(a.efer));
    if (a.csAttrib !== undefined) set(VMCB.CS + 2, a.csAttrib, 2);
    const csBase = f(VMCB.CS + 8);
    if (bytes.length) this.#gpaWrite(m, g, csBase + rip, bytes);
    const instruction = ['cpuid', 'out', 'in', 'rdmsr', 'wrmsr', 'hlt', 'vmmcall'].includes(d.kind);
    const nextRip = a.nextRip !== undefined ? BigInt(a.nextRip) : instruction && hasNrips(m) ? rip + BigInt(bytes.length) : 0n;
    const xmm0 = new Uint8Array(16);
    new DataView(xmm0.buffer).setBigUint64(0, regs[RAX] ^ 0xf0f0n, true);
    new DataView(xmm0.buffer).setBigUint64(8, regs[RBX] ^ 0x0f0fn, true);
    fx.set(xmm0, 160);
    for (let i = 0; i < 16; i++) gprs[i] = regs[i];
    set(VMCB.RAX, regs[RAX]);
    set(VMCB.RSP, regs[RSP]);
    set(VMCB.RIP, rip);
    set(VMCB.RFLAGS, rflags);
    set(VMCB.EXIT_CODE, d.code);
    set(VMCB.EXIT_INFO1, info1);
    set(VMCB.EXIT_INFO2, info2);
    set(VMCB.EXIT_INT_INFO, a.intInfo !== undefined ? BigInt(a.intInfo) : 0n);
    set(VMCB.INTERRUPT_SHADOW, a.shadow ? 1n : 0n);
    set(VMCB.NEXT_RIP, nextRip);
    const record = {
      step, action: a, kind: d.kind, rip, len: bytes.length, code: d.code, reason: reasonOf(d.code), writes: d.writes,
      before: regs, rflags, xmm0, outcome: null,
    };
    g.records.push(record);
    g.pending = record;
    g.exits[record.reason]++;
    g.regs = regs;
  }

  /** The guest whose Multiboot command line is `cmdline`. */
  guest(cmdline) {
    const g = this.guests.find((x) => x.cmdline === cmdline);
    if (!g) throw new Error(`svm-guest: no guest with the command line "${cmdline}" ran (${this.guests.map((x) => x.cmdline).join(', ')})`);
    return g;
  }

  /** The records of g's actions of one kind, in order (records of `idle` HLTs included under 'hlt'). */
  records(g, kind) {
    return g.records.filter((r) => r.kind === kind);
  }
}

export { hex };
