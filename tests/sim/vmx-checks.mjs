// The checks a processor makes at VM entry (Intel SDM vol. 3C section 26.2, 26.3) that a
// VMCS as Zerovisor builds it could fail, over the simulated machine's VMCS (a Map from
// field encoding to BigInt value) and CPU profile (capability MSRs, CPUID). Each check is a
// small named function returning a failure or null; the entry takes the first failure:
//   - VM-execution, VM-exit, VM-entry control fields (26.2.1): VMfailValid, error 7;
//   - host-state area (26.2.2-26.2.4): VMfailValid, error 8;
//   - guest-state area (26.3.1): a VM-entry failure, exit reason 33 with bit 31 set (26.8),
//     qualification 0, or 4 for the VMCS link pointer (26.3.1.5).
// Plus VMLAUNCH of a launched VMCS (error 4) and VMRESUME of a clear one (error 5), and
// VMWRITE to a read-only field (error 13, section 31.4).

/** VMCS field encodings (SDM vol. 3D appendix B) the checks read, and a few exit fields tests set. */
export const Field = {
  VPID: 0x0000,
  GUEST_ES_SELECTOR: 0x0800, // ES, CS, SS, DS, FS, GS, LDTR, TR: + 2 each
  HOST_ES_SELECTOR: 0x0c00, // ES, CS, SS, DS, FS, GS, TR: + 2 each
  EXIT_MSR_STORE_ADDRESS: 0x2006, EXIT_MSR_LOAD_ADDRESS: 0x2008, ENTRY_MSR_LOAD_ADDRESS: 0x200a,
  TSC_OFFSET: 0x2010, EPT_POINTER: 0x201a, VMCS_LINK_POINTER: 0x2800, GUEST_PAT: 0x2804, GUEST_EFER: 0x2806, HOST_PAT: 0x2c00, HOST_EFER: 0x2c02,
  PIN_CONTROLS: 0x4000, PROC_CONTROLS: 0x4002, CR3_TARGET_COUNT: 0x400a, EXIT_CONTROLS: 0x400c,
  EXIT_MSR_STORE_COUNT: 0x400e, EXIT_MSR_LOAD_COUNT: 0x4010, ENTRY_CONTROLS: 0x4012, ENTRY_MSR_LOAD_COUNT: 0x4014,
  ENTRY_INTERRUPTION_INFO: 0x4016, ENTRY_EXCEPTION_ERROR: 0x4018, PROC_CONTROLS2: 0x401e,
  INSTRUCTION_ERROR: 0x4400, EXIT_REASON: 0x4402, IDT_VECTORING_INFO: 0x4408, IDT_VECTORING_ERROR: 0x440a,
  EXIT_INSTRUCTION_LENGTH: 0x440c, EXIT_QUALIFICATION: 0x6400,
  GUEST_ES_LIMIT: 0x4800, GUEST_GDTR_LIMIT: 0x4810, GUEST_IDTR_LIMIT: 0x4812, GUEST_ES_ACCESS: 0x4814,
  GUEST_INTERRUPTIBILITY: 0x4824, GUEST_ACTIVITY: 0x4826,
  GUEST_CR0: 0x6800, GUEST_CR3: 0x6802, GUEST_CR4: 0x6804, GUEST_ES_BASE: 0x6806, GUEST_RIP: 0x681e, GUEST_RFLAGS: 0x6820,
  GUEST_SYSENTER_ESP: 0x6824, GUEST_SYSENTER_EIP: 0x6826,
  HOST_CR0: 0x6c00, HOST_CR3: 0x6c02, HOST_CR4: 0x6c04, HOST_FS_BASE: 0x6c06, HOST_GS_BASE: 0x6c08, HOST_TR_BASE: 0x6c0a,
  HOST_GDTR_BASE: 0x6c0c, HOST_IDTR_BASE: 0x6c0e, HOST_SYSENTER_ESP: 0x6c10, HOST_SYSENTER_EIP: 0x6c12,
};

/** VM-instruction error numbers (SDM 31.4). */
export const VmxError = { VmlaunchNonClear: 4, VmresumeNonLaunched: 5, InvalidControls: 7, InvalidHostState: 8, VmwriteReadOnly: 13 };
/** Basic exit reason of a VM-entry failure for invalid guest state (SDM appendix C). */
export const EXIT_INVALID_GUEST_STATE = 33;

const SEGMENTS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];
const ES = 0, CS = 1, SS = 2, LDTR = 6, TR = 7;

// control bits the checks depend on (SDM 25.6-25.8)
const PROC_SECONDARY = 1n << 31n;
const PROC2_EPT = 1n << 1n, PROC2_VPID = 1n << 5n, PROC2_UNRESTRICTED = 1n << 7n;
const EXIT_HOST_64 = 1n << 9n, EXIT_LOAD_PAT = 1n << 19n, EXIT_LOAD_EFER = 1n << 21n;
const ENTRY_IA32E = 1n << 9n, ENTRY_LOAD_PAT = 1n << 14n, ENTRY_LOAD_EFER = 1n << 15n;
const CR0_PE = 1n, CR0_PG = 1n << 31n, CR4_PAE = 1n << 5n, CR4_PCIDE = 1n << 17n;
const EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n, EFER_RESERVED = ~(1n | EFER_LME | EFER_LMA | (1n << 11n)) & 0xffffffffffffffffn;

/** Whether field encoding `field` is read-only (bits 11:10 = 1, the VM-exit information fields; SDM 25.11.2). */
export const isReadOnlyField = (field) => ((field >> 10) & 3) === 1;

/** A canonical address for 48-bit linear addresses: bits 63:47 all equal (SDM 3.3.7.1). */
const canonical = (v) => {
  const top = BigInt.asUintN(64, v) >> 47n;
  return top === 0n || top === 0x1ffffn;
};

/** Whether each byte of a PAT value is a valid memory type: 0, 1, 4, 5, 6, 7 (SDM 26.2.2, 26.3.1.1). */
const validPat = (v) => {
  for (let i = 0n; i < 64n; i += 8n) if (![0n, 1n, 4n, 5n, 6n, 7n].includes((v >> i) & 0xffn)) return false;
  return true;
};

const hex = (v) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

/** The context the checks read: the VMCS, the capability MSRs, the physical-address width. */
export const entryContext = (vmcs, cpu) => {
  const msr = (n) => BigInt(cpu.msrs[`0x${n.toString(16)}`] ?? 0);
  const f = (field) => BigInt(vmcs.get(field) ?? 0n);
  const width = (cpu.cpuid['0x80000008']?.[0] ?? 36) & 0xff;
  const proc = f(Field.PROC_CONTROLS);
  const proc2 = (proc & PROC_SECONDARY) !== 0n ? f(Field.PROC_CONTROLS2) : 0n;
  return {
    f, msr, maxPhys: (1n << BigInt(width)) - 1n,
    proc2,
    unrestricted: (proc2 & PROC2_UNRESTRICTED) !== 0n,
    ia32eGuest: (f(Field.ENTRY_CONTROLS) & ENTRY_IA32E) !== 0n,
    hostIs64: (f(Field.EXIT_CONTROLS) & EXIT_HOST_64) !== 0n,
  };
};

// ---- 26.2.1: VM-execution, VM-exit and VM-entry control fields (VMfailValid 7) ----

/** 26.2.1.1-26.2.1.3: each control within its capability MSR (the "true" ones when IA32_VMX_BASIC bit 55 says so). */
const controlsWithinCapabilities = (c) => {
  const useTrue = (c.msr(0x480) & (1n << 55n)) !== 0n;
  const sets = [
    ['pin-based controls', Field.PIN_CONTROLS, useTrue ? 0x48d : 0x481],
    ['primary processor-based controls', Field.PROC_CONTROLS, useTrue ? 0x48e : 0x482],
    ['VM-exit controls', Field.EXIT_CONTROLS, useTrue ? 0x48f : 0x483],
    ['VM-entry controls', Field.ENTRY_CONTROLS, useTrue ? 0x490 : 0x484],
  ];
  if ((c.f(Field.PROC_CONTROLS) & PROC_SECONDARY) !== 0n) sets.push(['secondary processor-based controls', Field.PROC_CONTROLS2, 0x48b]);
  for (const [name, field, capMsr] of sets) {
    const value = c.f(field), cap = c.msr(capMsr);
    const allowed0 = cap & 0xffffffffn, allowed1 = cap >> 32n;
    if ((value & allowed0) !== allowed0) return `${name} ${hex(value)} clear a bit the capability MSR ${hex(capMsr)} fixes to 1`;
    if ((value & ~allowed1 & 0xffffffffn) !== 0n) return `${name} ${hex(value)} set a bit the capability MSR ${hex(capMsr)} does not allow`;
  }
  return null;
};

/** 26.2.1.1: the secondary controls' own rules: VPID not 0, unrestricted guest only with EPT, a valid EPTP. */
const secondaryControlRules = (c) => {
  if ((c.proc2 & PROC2_VPID) !== 0n && (c.f(Field.VPID) & 0xffffn) === 0n) return 'VPID enabled with VPID 0';
  if (c.unrestricted && (c.proc2 & PROC2_EPT) === 0n) return 'unrestricted guest without EPT';
  if ((c.proc2 & PROC2_EPT) !== 0n) {
    const eptp = c.f(Field.EPT_POINTER);
    const cap = c.msr(0x48c);
    const type = eptp & 7n;
    if (!((type === 0n && (cap & (1n << 8n)) !== 0n) || (type === 6n && (cap & (1n << 14n)) !== 0n))) return `EPTP ${hex(eptp)}: a memory type the processor does not support`;
    if (((eptp >> 3n) & 7n) !== 3n) return `EPTP ${hex(eptp)}: not a 4-level walk`;
    if ((eptp & (1n << 6n)) !== 0n && (cap & (1n << 21n)) === 0n) return `EPTP ${hex(eptp)}: accessed and dirty flags the processor does not offer`;
    if ((eptp & 0xf80n) !== 0n || (eptp & ~0xfffn) > c.maxPhys) return `EPTP ${hex(eptp)}: reserved bits set`;
  }
  if (c.f(Field.CR3_TARGET_COUNT) > 4n) return 'CR3-target count above 4';
  return null;
};

/** 26.2.1.2, 26.2.1.3: the MSR-store and MSR-load areas 16-byte aligned inside the physical-address width. */
const msrAreas = (c) => {
  for (const [name, addr, count] of [
    ['VM-exit MSR-store', Field.EXIT_MSR_STORE_ADDRESS, Field.EXIT_MSR_STORE_COUNT],
    ['VM-exit MSR-load', Field.EXIT_MSR_LOAD_ADDRESS, Field.EXIT_MSR_LOAD_COUNT],
    ['VM-entry MSR-load', Field.ENTRY_MSR_LOAD_ADDRESS, Field.ENTRY_MSR_LOAD_COUNT],
  ]) {
    const n = c.f(count);
    if (n === 0n) continue;
    const at = c.f(addr);
    if ((at & 15n) !== 0n || at + n * 16n - 1n > c.maxPhys) return `${name} area at ${hex(at)} not 16-byte aligned inside the physical-address width`;
  }
  return null;
};

/** 26.2.1.3: event injection: a valid type and vector, the error code exactly when the exception has one and the guest is in protected mode. */
const eventInjection = (c) => {
  const info = c.f(Field.ENTRY_INTERRUPTION_INFO);
  if ((info & (1n << 31n)) === 0n) return null;
  const vector = info & 0xffn, type = (info >> 8n) & 7n, withCode = (info & (1n << 11n)) !== 0n;
  if ((info & 0x7ffff000n) !== 0n) return `VM-entry interruption information ${hex(info)}: reserved bits set`;
  if (type === 1n || (type === 3n && vector > 31n) || (type === 2n && vector !== 2n)) return `VM-entry interruption information ${hex(info)}: type ${type} with vector ${vector}`;
  const protectedMode = !c.unrestricted || (c.f(Field.GUEST_CR0) & CR0_PE) !== 0n;
  const hasCode = type === 3n && [8n, 10n, 11n, 12n, 13n, 14n, 17n].includes(vector);
  if (withCode !== (protectedMode && hasCode)) return `VM-entry interruption information ${hex(info)}: ${withCode ? 'an error code' : 'no error code'} for vector ${vector} ${protectedMode ? 'in protected mode' : 'in real mode'}`;
  if (withCode && (c.f(Field.ENTRY_EXCEPTION_ERROR) & 0xffff8000n) !== 0n) return 'VM-entry exception error code with bits 31:15 set';
  return null;
};

// ---- 26.2.2-26.2.4: the host-state area (VMfailValid 8) ----

/** 26.2.2: host CR0 and CR4 with the bits VMX operation fixes (IA32_VMX_CR0/CR4_FIXED0/1, appendix A.7, A.8), CR3 inside the width. */
const hostControlRegisters = (c) => {
  const cr0 = c.f(Field.HOST_CR0), cr4 = c.f(Field.HOST_CR4);
  if ((cr0 & c.msr(0x486)) !== c.msr(0x486) || (cr0 & ~c.msr(0x487) & 0xffffffffn) !== 0n) return `host CR0 ${hex(cr0)} outside the VMX fixed bits`;
  if ((cr4 & c.msr(0x488)) !== c.msr(0x488) || (cr4 & ~c.msr(0x489) & 0xffffffffn) !== 0n) return `host CR4 ${hex(cr4)} outside the VMX fixed bits`;
  if (c.f(Field.HOST_CR3) > c.maxPhys) return `host CR3 ${hex(c.f(Field.HOST_CR3))} beyond the physical-address width`;
  if (c.hostIs64 && (cr4 & CR4_PAE) === 0n) return 'a 64-bit host without CR4.PAE';
  return null;
};

/** 26.2.2: host addresses canonical. */
const hostAddressesCanonical = (c) => {
  for (const [name, field] of [['FS base', Field.HOST_FS_BASE], ['GS base', Field.HOST_GS_BASE], ['TR base', Field.HOST_TR_BASE],
    ['GDTR base', Field.HOST_GDTR_BASE], ['IDTR base', Field.HOST_IDTR_BASE], ['IA32_SYSENTER_ESP', Field.HOST_SYSENTER_ESP],
    ['IA32_SYSENTER_EIP', Field.HOST_SYSENTER_EIP]]) {
    if (!canonical(c.f(field))) return `host ${name} ${hex(c.f(field))} not canonical`;
  }
  return null;
};

/** 26.2.2: host IA32_EFER (when the exit loads it): reserved bits clear, LMA and LME equal to the host address-space size; host IA32_PAT valid. */
const hostEferAndPat = (c) => {
  const exit = c.f(Field.EXIT_CONTROLS);
  if ((exit & EXIT_LOAD_EFER) !== 0n) {
    const efer = c.f(Field.HOST_EFER);
    if ((efer & EFER_RESERVED) !== 0n) return `host IA32_EFER ${hex(efer)}: reserved bits set`;
    if (((efer & EFER_LMA) !== 0n) !== c.hostIs64 || ((efer & EFER_LME) !== 0n) !== c.hostIs64) return `host IA32_EFER ${hex(efer)}: LMA/LME differ from the host address-space size control`;
  }
  if ((exit & EXIT_LOAD_PAT) !== 0n && !validPat(c.f(Field.HOST_PAT))) return `host IA32_PAT ${hex(c.f(Field.HOST_PAT))} not valid`;
  return null;
};

/** 26.2.3: host selectors with RPL and TI 0; CS and TR not 0; SS not 0 for a 32-bit host. */
const hostSelectors = (c) => {
  const names = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'];
  for (let i = 0; i < names.length; i++) {
    const sel = c.f(Field.HOST_ES_SELECTOR + i * 2);
    if ((sel & 7n) !== 0n) return `host ${names[i]} selector ${hex(sel)} with RPL or TI set`;
  }
  if (c.f(Field.HOST_ES_SELECTOR + 2) === 0n) return 'host CS selector 0';
  if (c.f(Field.HOST_ES_SELECTOR + 12) === 0n) return 'host TR selector 0';
  if (!c.hostIs64 && c.f(Field.HOST_ES_SELECTOR + 4) === 0n) return 'host SS selector 0 for a 32-bit host';
  return null;
};

// ---- 26.3.1: the guest-state area (VM-entry failure, exit reason 33) ----

/** 26.3.1.1: guest CR0 and CR4 with the fixed bits (PE and PG free with unrestricted guest), PG only with PE, IA-32e mode with PG and PAE, PCIDE only in IA-32e mode. */
const guestControlRegisters = (c) => {
  const cr0 = c.f(Field.GUEST_CR0), cr4 = c.f(Field.GUEST_CR4);
  const fixed0 = c.msr(0x486) & (c.unrestricted ? ~(CR0_PE | CR0_PG) : ~0n);
  if ((cr0 & fixed0) !== fixed0 || (cr0 & ~c.msr(0x487) & 0xffffffffn) !== 0n) return `guest CR0 ${hex(cr0)} outside the VMX fixed bits`;
  if ((cr0 & CR0_PG) !== 0n && (cr0 & CR0_PE) === 0n) return `guest CR0 ${hex(cr0)}: PG without PE`;
  if ((cr4 & c.msr(0x488)) !== c.msr(0x488) || (cr4 & ~c.msr(0x489) & 0xffffffffn) !== 0n) return `guest CR4 ${hex(cr4)} outside the VMX fixed bits`;
  if (c.ia32eGuest && ((cr0 & CR0_PG) === 0n || (cr4 & CR4_PAE) === 0n)) return `an IA-32e mode guest needs CR0.PG and CR4.PAE (CR0 ${hex(cr0)}, CR4 ${hex(cr4)})`;
  if (!c.ia32eGuest && (cr4 & CR4_PCIDE) !== 0n) return 'CR4.PCIDE outside IA-32e mode';
  if (c.f(Field.GUEST_CR3) > c.maxPhys) return `guest CR3 ${hex(c.f(Field.GUEST_CR3))} beyond the physical-address width`;
  return null;
};

/** 26.3.1.1: guest IA32_EFER (when the entry loads it): reserved bits clear, LMA = the IA-32e mode guest control, LME = LMA with paging on; IA32_PAT valid; SYSENTER addresses canonical. */
const guestEferAndMsrs = (c) => {
  const entry = c.f(Field.ENTRY_CONTROLS);
  if ((entry & ENTRY_LOAD_EFER) !== 0n) {
    const efer = c.f(Field.GUEST_EFER);
    if ((efer & EFER_RESERVED) !== 0n) return `guest IA32_EFER ${hex(efer)}: reserved bits set`;
    if (((efer & EFER_LMA) !== 0n) !== c.ia32eGuest) return `guest IA32_EFER ${hex(efer)}: LMA differs from the IA-32e mode guest control`;
    if ((c.f(Field.GUEST_CR0) & CR0_PG) !== 0n && ((efer & EFER_LME) !== 0n) !== ((efer & EFER_LMA) !== 0n)) return `guest IA32_EFER ${hex(efer)}: LME differs from LMA with paging on`;
  }
  if ((entry & ENTRY_LOAD_PAT) !== 0n && !validPat(c.f(Field.GUEST_PAT))) return `guest IA32_PAT ${hex(c.f(Field.GUEST_PAT))} not valid`;
  if (!canonical(c.f(Field.GUEST_SYSENTER_ESP)) || !canonical(c.f(Field.GUEST_SYSENTER_EIP))) return 'guest IA32_SYSENTER_ESP/EIP not canonical';
  return null;
};

const segment = (c, i) => {
  const ar = c.f(Field.GUEST_ES_ACCESS + i * 2);
  return {
    name: SEGMENTS[i], selector: c.f(Field.GUEST_ES_SELECTOR + i * 2), base: c.f(Field.GUEST_ES_BASE + i * 2),
    limit: c.f(Field.GUEST_ES_LIMIT + i * 2) & 0xffffffffn, ar, type: ar & 15n, s: (ar >> 4n) & 1n, dpl: (ar >> 5n) & 3n,
    present: (ar >> 7n) & 1n, l: (ar >> 13n) & 1n, db: (ar >> 14n) & 1n, g: (ar >> 15n) & 1n, unusable: (ar & (1n << 16n)) !== 0n,
  };
};

/** 26.3.1.2: the rules every usable segment shares: reserved access-rights bits clear, present, the limit matching G. */
const segmentCommon = (s) => {
  if ((s.ar & 0xfffe0f00n) !== 0n) return `guest ${s.name} access rights ${hex(s.ar)}: reserved bits set`;
  if (s.present === 0n) return `guest ${s.name} not present`;
  if ((s.limit & 0xfffn) !== 0xfffn && s.g !== 0n) return `guest ${s.name} limit ${hex(s.limit)} with G set`;
  if ((s.limit & 0xfff00000n) !== 0n && s.g === 0n) return `guest ${s.name} limit ${hex(s.limit)} with G clear`;
  return null;
};

/**
 * 26.3.1.2: guest segment registers as Zerovisor's guests have them (protected or real mode
 * with unrestricted guest, IA-32e mode later): CS an accessed code segment (or read/write
 * data with unrestricted guest) whose DPL matches SS's when non-conforming, no L with D/B;
 * SS read/write data with DPL 0 in real mode; ES/DS/FS/GS accessed and readable; TR a busy
 * TSS (64-bit in IA-32e mode) and usable, its selector's TI 0; LDTR an LDT when usable; the
 * base rules; GDTR/IDTR limits 16 bits with canonical bases.
 */
const guestSegments = (c) => {
  const seg = (i) => segment(c, i);
  const cs = seg(CS), ss = seg(SS), tr = seg(TR), ldtr = seg(LDTR);
  const protectedMode = (c.f(Field.GUEST_CR0) & CR0_PE) !== 0n;
  // CS (always usable)
  if (!([9n, 11n, 13n, 15n].includes(cs.type) || (c.unrestricted && cs.type === 3n))) return `guest CS type ${cs.type}: not an accessed code segment`;
  if (cs.s !== 1n) return 'guest CS is a system segment';
  if ((cs.type === 9n || cs.type === 11n) && cs.dpl !== ss.dpl) return `guest CS DPL ${cs.dpl} differs from SS DPL ${ss.dpl}`;
  if (cs.type === 3n && cs.dpl !== 0n) return 'guest CS (data, unrestricted guest) with DPL not 0';
  if (c.ia32eGuest && cs.l === 1n && cs.db === 1n) return 'guest CS with both L and D/B in IA-32e mode';
  if ((cs.base >> 32n) !== 0n) return `guest CS base ${hex(cs.base)} above 4 GiB`;
  const problem = segmentCommon(cs);
  if (problem) return problem;
  // SS, ES, DS, FS, GS when usable
  if (!ss.unusable) {
    if (ss.type !== 3n && ss.type !== 7n) return `guest SS type ${ss.type}: not read/write data`;
    if (!protectedMode && ss.dpl !== 0n) return 'guest SS DPL not 0 in real mode';
    if (!c.unrestricted && ss.dpl !== (ss.selector & 3n)) return 'guest SS DPL differs from its RPL';
  }
  for (const i of [ES, SS, 3, 4, 5]) {
    const s = seg(i);
    if (s.unusable) continue;
    if ((s.type & 1n) === 0n) return `guest ${s.name} type ${s.type}: not accessed`;
    if ((s.type & 8n) !== 0n && (s.type & 2n) === 0n) return `guest ${s.name}: an unreadable code segment`;
    if (s.s !== 1n) return `guest ${s.name} is a system segment`;
    if (i !== 4 && i !== 5 && (s.base >> 32n) !== 0n) return `guest ${s.name} base ${hex(s.base)} above 4 GiB`;
    if ((i === 4 || i === 5) && !canonical(s.base)) return `guest ${s.name} base ${hex(s.base)} not canonical`;
    const p = segmentCommon(s);
    if (p) return p;
  }
  // TR: always usable
  if ((tr.selector & 4n) !== 0n) return 'guest TR selector with TI set';
  if (tr.unusable) return 'guest TR unusable';
  if (c.ia32eGuest ? tr.type !== 11n : tr.type !== 3n && tr.type !== 11n) return `guest TR type ${tr.type}: not a busy TSS${c.ia32eGuest ? ' (64-bit in IA-32e mode)' : ''}`;
  if (tr.s !== 0n) return 'guest TR is not a system segment';
  if (!canonical(tr.base)) return `guest TR base ${hex(tr.base)} not canonical`;
  const trProblem = segmentCommon(tr);
  if (trProblem) return trProblem;
  // LDTR when usable
  if (!ldtr.unusable) {
    if ((ldtr.selector & 4n) !== 0n) return 'guest LDTR selector with TI set';
    if (ldtr.type !== 2n || ldtr.s !== 0n) return `guest LDTR type ${ldtr.type}: not an LDT`;
    if (!canonical(ldtr.base)) return 'guest LDTR base not canonical';
    const p = segmentCommon(ldtr);
    if (p) return p;
  }
  // 26.3.1.3: GDTR and IDTR
  for (const [name, limit, base] of [['GDTR', Field.GUEST_GDTR_LIMIT, Field.GUEST_ES_BASE + 16], ['IDTR', Field.GUEST_IDTR_LIMIT, Field.GUEST_ES_BASE + 18]]) {
    if ((c.f(limit) & 0xffff0000n) !== 0n) return `guest ${name} limit ${hex(c.f(limit))} above 16 bits`;
    if (!canonical(c.f(base))) return `guest ${name} base not canonical`;
  }
  return null;
};

/** The type of the event the VM-entry interruption information injects, or -1n when none. */
const injecting = (c) => {
  const info = c.f(Field.ENTRY_INTERRUPTION_INFO);
  return (info & (1n << 31n)) === 0n ? -1n : (info >> 8n) & 7n;
};

/** 26.3.1.4: RIP (32 bits outside 64-bit code) and RFLAGS (reserved bits, bit 1 set, VM only in protected mode outside IA-32e, IF set for an external interrupt to inject). */
const guestRipAndRflags = (c) => {
  const rip = c.f(Field.GUEST_RIP), rflags = c.f(Field.GUEST_RFLAGS);
  const csL = (c.f(Field.GUEST_ES_ACCESS + 2) >> 13n) & 1n;
  if ((!c.ia32eGuest || csL === 0n) && (rip >> 32n) !== 0n) return `guest RIP ${hex(rip)} above 4 GiB outside 64-bit code`;
  if (c.ia32eGuest && csL === 1n && !canonical(rip)) return `guest RIP ${hex(rip)} not canonical`;
  if ((rflags & ~0x3f7fd7n & 0xffffffffffffffffn) !== 0n || (rflags & 2n) === 0n) return `guest RFLAGS ${hex(rflags)}: reserved bits wrong`;
  if ((rflags & (1n << 17n)) !== 0n && (c.ia32eGuest || (c.f(Field.GUEST_CR0) & CR0_PE) === 0n)) return 'guest RFLAGS.VM outside protected mode';
  if (injecting(c) === 0n && (rflags & (1n << 9n)) === 0n) return 'guest RFLAGS.IF clear with an external interrupt to inject';
  return null;
};

/**
 * 26.3.1.5: activity state one the processor supports (IA32_VMX_MISC bits 8:6), HLT only with SS DPL 0;
 * interruptibility consistent with RFLAGS.IF and with the event to inject (no STI / MOV SS blocking
 * for an external interrupt, no MOV SS blocking for an NMI, nor NMI blocking with virtual NMIs).
 */
const guestActivityAndInterruptibility = (c) => {
  const activity = c.f(Field.GUEST_ACTIVITY);
  if (activity > 3n || (activity !== 0n && (c.msr(0x485) & (1n << (5n + activity))) === 0n)) return `guest activity state ${activity} not supported`;
  if (activity === 1n && ((c.f(Field.GUEST_ES_ACCESS + 4) >> 5n) & 3n) !== 0n) return 'guest HLT activity state with SS DPL not 0';
  const intr = c.f(Field.GUEST_INTERRUPTIBILITY);
  if ((intr & ~0x1fn & 0xffffffffn) !== 0n) return `guest interruptibility ${hex(intr)}: reserved bits set`;
  if ((intr & 3n) === 3n) return 'guest interruptibility: blocking by STI and by MOV SS at once';
  if ((intr & 1n) !== 0n && (c.f(Field.GUEST_RFLAGS) & (1n << 9n)) === 0n) return 'guest interruptibility: blocking by STI with RFLAGS.IF clear';
  const type = injecting(c);
  if (type === 0n && (intr & 3n) !== 0n) return 'guest interruptibility: blocking by STI or MOV SS with an external interrupt to inject';
  if (type === 2n && (intr & 2n) !== 0n) return 'guest interruptibility: blocking by MOV SS with an NMI to inject';
  if (type === 2n && (intr & 8n) !== 0n && (c.f(Field.PIN_CONTROLS) & (1n << 5n)) !== 0n) return 'guest interruptibility: blocking by NMI with virtual NMIs and an NMI to inject';
  return null;
};

/** 26.3.1.5: the VMCS link pointer all ones (Zerovisor uses no shadow VMCS). */
const vmcsLinkPointer = (c) => {
  const link = c.f(Field.VMCS_LINK_POINTER);
  return link === 0xffffffffffffffffn ? null : `VMCS link pointer ${hex(link)} is not all ones`;
};

/** The checks in the order the processor makes them (SDM 26.1-26.3), with how each fails. */
export const ENTRY_CHECKS = [
  { rule: 'controls', fail: 'VMfailValid', error: VmxError.InvalidControls, checks: [controlsWithinCapabilities, secondaryControlRules, msrAreas, eventInjection] },
  { rule: 'host state', fail: 'VMfailValid', error: VmxError.InvalidHostState, checks: [hostControlRegisters, hostAddressesCanonical, hostEferAndPat, hostSelectors] },
  { rule: 'guest state', fail: 'exit', reason: EXIT_INVALID_GUEST_STATE, qualification: 0, checks: [guestControlRegisters, guestEferAndMsrs, guestSegments, guestRipAndRflags, guestActivityAndInterruptibility] },
  { rule: 'guest state', fail: 'exit', reason: EXIT_INVALID_GUEST_STATE, qualification: 4, checks: [vmcsLinkPointer] },
];

/**
 * The first check VM entry with this VMCS fails: { fail: 'VMfailValid', error, check, why }
 * or { fail: 'exit', reason, qualification, check, why }; null when the entry goes ahead.
 */
export const vmEntryFailure = (vmcs, cpu) => {
  const c = entryContext(vmcs, cpu);
  for (const group of ENTRY_CHECKS) {
    for (const check of group.checks) {
      const why = check(c);
      if (!why) continue;
      const { checks, ...how } = group;
      return { ...how, check: check.name, why };
    }
  }
  return null;
};
