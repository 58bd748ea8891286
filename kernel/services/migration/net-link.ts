// Migration frames over Ethernet (the VirtioNet sink through drivers/virtio-net, the Snp
// sink through the firmware's interface, drivers/snp; one Link each): a migration
// frame (up to MAX_FRAME_BYTES, more than an Ethernet payload of 1500) goes as fragments,
// each one Ethernet frame to the broadcast address (two hosts on one link) with EtherType
// 0x88B5 (IEEE 802 local experimental 1) and a 6-byte fragment header:
//   frame id u16 @0, fragment index u8 @2, fragment count u8 @3, frame length u16 @4,
// then up to FRAGMENT_DATA bytes of the frame. The receiver reassembles one frame at a
// time: a fragment of another frame id starts over, a frame with a fragment missing is
// simply lost (the migration protocol resends it), and everything else on the wire (other
// EtherTypes, malformed fragments) is ignored. Each link reassembles on its own.
import { netInit, netMacByte, netReceive, netSend, netState, NetState } from '../../../drivers/virtio-net/virtio-net';
import { snpInit, snpMacByte, snpReceive, snpSend, snpState, SnpState } from '../../../drivers/snp/snp';
import { MAX_FRAME_BYTES } from './frame';
import { copyBytes } from '../../host/memory';

export const enum Link {
  Net0 = 0, // Zerovisor's own virtio-net driver
  Snp = 1, // the firmware's Simple Network Protocol
}

const ETHERTYPE = 0x88b5;
const ETH_HEADER = 14;
const FRAGMENT_HEADER = 6;
const FRAGMENT_DATA = 1500 - FRAGMENT_HEADER;
const MAX_FRAGMENTS = Math.ceil(MAX_FRAME_BYTES / FRAGMENT_DATA);

const wire = new Uint8Array(ETH_HEADER + 1500);
// room past the longest frame: a receiver may hand over bytes after the fragment (Ethernet
// padding of short frames; OVMF's SNP returns every frame 2 bytes longer than it was sent)
const incoming = new Uint8Array(2048);
const assembly = new Uint8Array(2 * MAX_FRAME_BYTES); // per link
const got = new Uint8Array(2 * 8); // per link: fragments of the frame being assembled
const asmId = new Int32Array(2);
const asmCount = new Uint8Array(2);
const asmLength = new Uint16Array(2);
const asmHave = new Uint8Array(2);
asmId[0] = -1;
asmId[1] = -1;

let nextId = 1;

/**
 * Whether the link is ready for migration frames (initializing it on first use). The two
 * exclude each other: net0 takes the NIC from the firmware (its SNP goes with it), and
 * taking it while the firmware's SNP carries frames would stop those.
 */
export const netLinkReady = (link: number) => {
  if (link === Link.Snp) return netState() !== NetState.Ready && snpInit() === SnpState.Ready;
  return snpState() !== SnpState.Ready && netInit() === NetState.Ready;
};

const macByte = (link: number, i: number) => (link === Link.Snp ? snpMacByte(i) : netMacByte(i));
const sendFrame = (link: number, n: number) => (link === Link.Snp ? snpSend(wire, 0, n) : netSend(wire, 0, n));
const receiveFrame = (link: number) => (link === Link.Snp ? snpReceive(incoming, 0, incoming.length) : netReceive(incoming, 0, incoming.length));

/** Sends frame bytes[off, + len) as fragments; false when the NIC refused one. */
export const netLinkSend = (link: number, bytes: Uint8Array, off: number, len: number) => {
  if (!netLinkReady(link) || len < 1 || len > MAX_FRAME_BYTES) return false;
  const id = nextId;
  nextId = nextId === 0xffff ? 1 : nextId + 1;
  const count = Math.ceil(len / FRAGMENT_DATA);
  for (let i = 0; i < 6; i++) {
    wire[i] = 0xff; // broadcast
    wire[6 + i] = macByte(link, i);
  }
  wire[12] = ETHERTYPE >>> 8;
  wire[13] = ETHERTYPE & 0xff;
  for (let f = 0; f < count; f++) {
    const from = f * FRAGMENT_DATA;
    const n = len - from < FRAGMENT_DATA ? len - from : FRAGMENT_DATA;
    wire[14] = id & 0xff;
    wire[15] = id >>> 8;
    wire[16] = f;
    wire[17] = count;
    wire[18] = len & 0xff;
    wire[19] = len >>> 8;
    copyBytes(wire, ETH_HEADER + FRAGMENT_HEADER, bytes, off + from, n);
    if (sendFrame(link, ETH_HEADER + FRAGMENT_HEADER + n) !== 0) return false;
  }
  return true;
};

/** Takes arrived Ethernet frames until a migration frame is whole: its length in out[off], or 0. */
export const netLinkPoll = (link: number, out: Uint8Array, off: number, cap: number) => {
  if (!netLinkReady(link)) return 0;
  const l = link === Link.Snp ? 1 : 0;
  const base = l * MAX_FRAME_BYTES;
  for (let k = 0; k < 64; k++) {
    const n = receiveFrame(link);
    if (n === 0) return 0;
    if (n < ETH_HEADER + FRAGMENT_HEADER || ((incoming[12] << 8) | incoming[13]) !== ETHERTYPE) continue;
    const id = incoming[14] | (incoming[15] << 8);
    const index = incoming[16];
    const count = incoming[17];
    const length = incoming[18] | (incoming[19] << 8);
    const data = n - ETH_HEADER - FRAGMENT_HEADER;
    // the fragment must fit the frame it claims to be part of
    if (count < 1 || count > MAX_FRAGMENTS || index >= count || length < 1 || length > MAX_FRAME_BYTES) continue;
    if (Math.ceil(length / FRAGMENT_DATA) !== count) continue;
    const expect = index < count - 1 ? FRAGMENT_DATA : length - (count - 1) * FRAGMENT_DATA;
    if (data < expect) continue; // bytes past it are padding, not data
    if (id !== asmId[l] || count !== asmCount[l] || length !== asmLength[l]) {
      asmId[l] = id;
      asmCount[l] = count;
      asmLength[l] = length;
      asmHave[l] = 0;
      for (let i = 0; i < 8; i++) got[l * 8 + i] = 0;
    }
    if (got[l * 8 + index] === 0) {
      const at = base + index * FRAGMENT_DATA;
      copyBytes(assembly, at, incoming, ETH_HEADER + FRAGMENT_HEADER, expect);
      got[l * 8 + index] = 1;
      asmHave[l] = asmHave[l] + 1;
    }
    if (asmHave[l] === asmCount[l]) {
      asmId[l] = -1;
      if (length > cap || off < 0 || off + length > out.length) return 0; // not for this caller: dropped
      copyBytes(out, off, assembly, base, length);
      return length;
    }
  }
  return 0;
};
