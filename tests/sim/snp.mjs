// A model of one firmware Simple Network Protocol interface (UEFI 2.10 section 24.1), as the
// simulated machine offers it through the hv_efi_snp_* host functions: Mode (State,
// addresses, filters, media), Start/Initialize/Shutdown/Stop with their state rules,
// ReceiveFilters, Transmit (HeaderSize 0, the caller's buffer read from physical memory and
// owned by the driver until GetStatus hands it back: a buffer changed before that is a
// problem), GetStatus (one recycled buffer per call), Receive (non-blocking). Frames go to a
// peer interface (connect(a, b): a pair of hosts on one wire), back to this one
// (loopback), or only into `sent`. Failures a test can ask for: a firmware that will not
// let go, Start or Initialize or Transmit statuses, media down, a full transmit queue.

// EFI status codes (low bits; UEFI 2.10 Appendix D)
export const EFI = { SUCCESS: 0, INVALID_PARAMETER: 2, BUFFER_TOO_SMALL: 5, NOT_READY: 6, DEVICE_ERROR: 7, NOT_STARTED: 19, ALREADY_STARTED: 20 };
export const SnpState = { Stopped: 0, Started: 1, Initialized: 2 };

export class SnpModel {
  /**
   * @param {object} o
   * @param {number[]} [o.mac]
   * @param {number} [o.state] Mode.State at boot (the firmware's stack may have left it Initialized)
   * @param {number[]} [o.release] what hv_efi_snp_release returns, call by call (then the last one again); default [0]
   * @param {number} [o.startStatus] @param {number} [o.initializeStatus] @param {number} [o.filtersStatus]
   * @param {number|((frame: Uint8Array, n: number) => number)} [o.transmitStatus] EFI status of Transmit (per frame)
   * @param {boolean} [o.mediaPresentSupported] @param {boolean} [o.mediaPresent]
   * @param {number} [o.hwAddressSize] @param {number} [o.mediaHeaderSize] @param {number} [o.maxPacketSize]
   * @param {number} [o.txQueue] buffers the driver holds before Transmit says EFI_NOT_READY
   * @param {boolean} [o.loopback]
   */
  constructor(o = {}) {
    this.mac = o.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    this.state = o.state ?? SnpState.Stopped;
    this.releaseResults = o.release ?? [0];
    this.startStatus = o.startStatus ?? 0;
    this.initializeStatus = o.initializeStatus ?? 0;
    this.filtersStatus = o.filtersStatus ?? 0;
    this.transmitStatus = o.transmitStatus ?? 0;
    this.mediaPresentSupported = o.mediaPresentSupported ?? true;
    this.mediaPresent = o.mediaPresent ?? true;
    this.hwAddressSize = o.hwAddressSize ?? 6;
    this.mediaHeaderSize = o.mediaHeaderSize ?? 14;
    this.maxPacketSize = o.maxPacketSize ?? 1500;
    this.filterMask = 0x1f;
    this.filterSetting = 0;
    this.txQueue = o.txQueue ?? 16;
    this.loopback = o.loopback ?? false;
    this.peer = null;
    this.rx = []; // frames waiting for Receive
    this.sent = []; // every frame transmitted
    this.inFlight = []; // { addr, bytes } until GetStatus hands them back
    this.calls = []; // the operations, in order
    this.problems = [];
    this.releases = 0;
    this.transmits = 0;
  }

  /** Frames this interface sends arrive at `b` and the other way round. */
  static connect(a, b) {
    a.peer = b;
    b.peer = a;
  }

  release() {
    this.calls.push('release');
    const r = this.releaseResults[Math.min(this.releases, this.releaseResults.length - 1)];
    this.releases++;
    return r;
  }

  /** The 40-byte record of hv_efi_snp_mode. */
  modeRecord() {
    const b = new Uint8Array(40);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, this.state, true);
    dv.setUint32(4, this.hwAddressSize, true);
    dv.setUint32(8, this.mediaHeaderSize, true);
    dv.setUint32(12, this.maxPacketSize, true);
    dv.setUint32(16, this.filterMask, true);
    dv.setUint32(20, this.filterSetting, true);
    b[24] = 1; // IfType: Ethernet (RFC 1700)
    b[27] = this.mediaPresentSupported ? 1 : 0;
    b[28] = this.mediaPresent ? 1 : 0;
    b.set(this.mac.slice(0, 8), 32);
    return b;
  }

  control(op, enable, disable) {
    switch (op) {
      case 1:
        this.calls.push('start');
        if (this.state !== SnpState.Stopped) return EFI.ALREADY_STARTED;
        if (this.startStatus) return this.startStatus;
        this.state = SnpState.Started;
        return 0;
      case 2:
        this.calls.push('initialize');
        if (this.state === SnpState.Stopped) return EFI.NOT_STARTED;
        if (this.initializeStatus) return this.initializeStatus;
        this.state = SnpState.Initialized;
        return 0;
      case 3:
        this.calls.push('shutdown');
        if (this.state !== SnpState.Initialized) return this.state === SnpState.Stopped ? EFI.NOT_STARTED : EFI.DEVICE_ERROR;
        this.state = SnpState.Started;
        this.inFlight = [];
        return 0;
      case 4:
        this.calls.push('stop');
        if (this.state !== SnpState.Started) return this.state === SnpState.Stopped ? EFI.NOT_STARTED : EFI.DEVICE_ERROR;
        this.state = SnpState.Stopped;
        return 0;
      case 5:
        this.calls.push(`filters ${enable} ${disable}`);
        if (this.state !== SnpState.Initialized) return EFI.NOT_STARTED;
        if (this.filtersStatus) return this.filtersStatus;
        if ((enable & ~this.filterMask) !== 0) return EFI.INVALID_PARAMETER;
        this.filterSetting = (this.filterSetting | enable) & ~disable;
        return 0;
    }
    return EFI.INVALID_PARAMETER;
  }

  /** GetStatus: [status, interrupt status, recycled buffer address (BigInt, 0n for none)]. */
  getStatus(physRead) {
    if (this.state !== SnpState.Initialized) return [EFI.NOT_STARTED, 0, 0n];
    const done = this.inFlight.shift();
    if (!done) return [0, 0, 0n];
    const now = physRead(done.addr, done.bytes.length);
    if (!now.every((x, i) => x === done.bytes[i])) this.problems.push(`the transmit buffer at 0x${done.addr.toString(16)} changed before GetStatus returned it`);
    return [0, 2, done.addr];
  }

  transmit(addr, len, physRead) {
    if (this.state !== SnpState.Initialized) return this.state === SnpState.Stopped ? EFI.NOT_STARTED : EFI.DEVICE_ERROR;
    if (len < this.mediaHeaderSize) return EFI.BUFFER_TOO_SMALL;
    if (len > this.mediaHeaderSize + this.maxPacketSize || addr === 0n) return EFI.INVALID_PARAMETER;
    if (this.inFlight.length >= this.txQueue) return EFI.NOT_READY;
    if (this.inFlight.some((t) => t.addr === addr)) this.problems.push(`buffer 0x${addr.toString(16)} transmitted again before GetStatus returned it`);
    const frame = physRead(addr, len).slice();
    const n = this.transmits++;
    const s = typeof this.transmitStatus === 'function' ? this.transmitStatus(frame, n) : this.transmitStatus;
    if (s) return s;
    this.inFlight.push({ addr, bytes: frame });
    this.sent.push(frame);
    if (this.loopback) this.rx.push(frame);
    else if (this.peer && this.peer.state === SnpState.Initialized) this.peer.rx.push(frame);
    return 0;
  }

  /** Receive: the frame, or a status number. */
  receive(cap) {
    if (this.state !== SnpState.Initialized) return this.state === SnpState.Stopped ? EFI.NOT_STARTED : EFI.DEVICE_ERROR;
    const f = this.rx.shift();
    if (!f) return EFI.NOT_READY;
    if (f.length > cap) return EFI.BUFFER_TOO_SMALL;
    return f;
  }
}
