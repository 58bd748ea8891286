// Migration frames over Ethernet (the VirtioNet sink, drivers/virtio-net): a migration
// frame (up to MAX_FRAME_BYTES, more than an Ethernet payload of 1500) goes as fragments,
// each one Ethernet frame to the broadcast address (two hosts on one link) with EtherType
// 0x88B5 (IEEE 802 local experimental 1) and a 6-byte fragment header:
//   frame id u16 @0, fragment index u8 @2, fragment count u8 @3, frame length u16 @4,
// then up to FRAGMENT_DATA bytes of the frame. The receiver reassembles one frame at a
// time: a fragment of another frame id starts over, a frame with a fragment missing is
// simply lost (the migration protocol resends it), and everything else on the wire (other
// EtherTypes, malformed fragments) is ignored.
import { netInit, netMacByte, netReceive, netSend, NetState } from '../../drivers/virtio-net/virtio-net';
import { MAX_FRAME_BYTES } from './frame';
import { copyBytes } from '../host/memory';

const ETHERTYPE = 0x88b5;
const ETH_HEADER = 14;
const FRAGMENT_HEADER = 6;
const FRAGMENT_DATA = 1500 - FRAGMENT_HEADER;
const MAX_FRAGMENTS = Math.ceil(MAX_FRAME_BYTES / FRAGMENT_DATA);

const wire = new Uint8Array(ETH_HEADER + 1500);
const incoming = new Uint8Array(ETH_HEADER + 1500);
const assembly = new Uint8Array(MAX_FRAME_BYTES);
const got = new Uint8Array(8); // fragments of the frame being assembled

let nextId = 1;
let asmId = -1;
let asmCount = 0;
let asmLength = 0;
let asmHave = 0;

/** Whether net0 is ready for migration frames (initializing it on first use). */
export const netLinkReady = () => netInit() === NetState.Ready;

/** Sends frame bytes[off, + len) as fragments; false when the NIC refused one. */
export const netLinkSend = (bytes: Uint8Array, off: number, len: number) => {
  if (!netLinkReady() || len < 1 || len > MAX_FRAME_BYTES) return false;
  const id = nextId;
  nextId = nextId === 0xffff ? 1 : nextId + 1;
  const count = Math.ceil(len / FRAGMENT_DATA);
  for (let i = 0; i < 6; i++) {
    wire[i] = 0xff; // broadcast
    wire[6 + i] = netMacByte(i);
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
    if (netSend(wire, 0, ETH_HEADER + FRAGMENT_HEADER + n) !== 0) return false;
  }
  return true;
};

/** Takes arrived Ethernet frames until a migration frame is whole: its length in out[off], or 0. */
export const netLinkPoll = (out: Uint8Array, off: number, cap: number) => {
  if (!netLinkReady()) return 0;
  for (let k = 0; k < 64; k++) {
    const n = netReceive(incoming, 0, incoming.length);
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
    if (data !== expect) continue;
    if (id !== asmId || count !== asmCount || length !== asmLength) {
      asmId = id;
      asmCount = count;
      asmLength = length;
      asmHave = 0;
      for (let i = 0; i < got.length; i++) got[i] = 0;
    }
    if (got[index] === 0) {
      const at = index * FRAGMENT_DATA;
      copyBytes(assembly, at, incoming, ETH_HEADER + FRAGMENT_HEADER, data);
      got[index] = 1;
      asmHave++;
    }
    if (asmHave === asmCount) {
      asmId = -1;
      if (length > cap || off < 0 || off + length > out.length) return 0; // not for this caller: dropped
      copyBytes(out, off, assembly, 0, length);
      return length;
    }
  }
  return 0;
};
