// Split virtqueues (virtio 1.2 section 2.7) in physical pages Zerovisor owns, polled (no
// interrupts, no VIRTIO_F_EVENT_IDX). One 4 KiB page per queue holds, for a queue size N
// (a power of two up to MAX_QUEUE_SIZE):
//   0                 descriptor table (2.7.5): N x { le64 addr; le32 len; le16 flags; le16 next }
//   16 N              driver area, the available ring (2.7.6): le16 flags; le16 idx; le16 ring[N]
//   16 N + 6 + 2 N    (rounded up to 4) device area, the used ring (2.7.8): le16 flags;
//                     le16 idx; { le32 id; le32 len } ring[N]
// Descriptor i always describes buffer i (bufBase + i * bufSize); one buffer per packet,
// no chains, no indirect descriptors. The driver only ever touches its own page and its
// own buffers, at addresses it computes itself: nothing read from the used ring is used as
// an address.
// What the device reports back is checked before it is believed (2.7.8, 2.7.13):
//   - the used index may advance by at most the number of buffers the driver made
//     available and has not had back (so never by more than N);
//   - a used element's id must be a descriptor the driver posted and has not had back;
//   - its len may not exceed the length of the buffer that was posted.
// A queue that breaks one of these is marked broken (vqError) and is not used again.
import { dataAddress } from '../../kernel/host/memory';
import { le16, le32, putLe16, putLe32 } from '../../kernel/lib/bytes';

export const MAX_QUEUES = 4;
export const MAX_QUEUE_SIZE = 128;

const DESC_WRITE = 2; // VIRTQ_DESC_F_WRITE: the device writes this buffer (2.7.5)
const AVAIL_NO_INTERRUPT = 1; // VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7)
const USED_NO_NOTIFY = 1; // VIRTQ_USED_F_NO_NOTIFY (2.7.10)
const TWO_32 = 4294967296;

export const enum VqError {
  None = 0,
  IndexJump = 1, // a: last used index seen, b: the device's used index, c: buffers outstanding
  UnknownId = 2, // a: the id, b: the queue size
  BadLength = 3, // a: the id, b: the length reported, c: the length posted
}

const ringBase = new Float64Array(MAX_QUEUES);
const bufBase = new Float64Array(MAX_QUEUES);
const sizes = new Uint32Array(MAX_QUEUES);
const bufSizes = new Uint32Array(MAX_QUEUES);
const availIdx = new Uint32Array(MAX_QUEUES); // next available index to publish (mod 2^16)
const lastUsed = new Uint32Array(MAX_QUEUES); // next used index to consume (mod 2^16)
const posted = new Uint8Array(MAX_QUEUES * MAX_QUEUE_SIZE); // 1 while the device owns the descriptor
const postedLen = new Uint32Array(MAX_QUEUES * MAX_QUEUE_SIZE);
const errors = new Uint8Array(MAX_QUEUES);
const errorArgs = new Float64Array(MAX_QUEUES * 3);

// Staging bytes in linear memory for hv_phys_read/write (descriptor tables up to 2 KiB).
const staging = new Uint8Array(MAX_QUEUE_SIZE * 16);
let stagingAddr = -1;
const stage = () => {
  if (stagingAddr < 0) stagingAddr = dataAddress(staging);
  return stagingAddr;
};

const lo = (a: number) => a % TWO_32;
const hi = (a: number) => Math.floor(a / TWO_32);


const writePhys = (address: number, bytes: number) => hv_phys_write(lo(address), hi(address), stage(), bytes);
const readPhys = (address: number, bytes: number) => hv_phys_read(lo(address), hi(address), stage(), bytes);

/** Byte offsets of the available and used rings in the queue's page. */
const availOffset = (n: number) => 16 * n;
const usedOffset = (n: number) => Math.ceil((16 * n + 6 + 2 * n) / 4) * 4;

/** Physical addresses for queue_desc, queue_driver, queue_device (4.1.4.3). */
export const vqDescAddress = (q: number) => ringBase[q];
export const vqDriverAddress = (q: number) => ringBase[q] + availOffset(sizes[q]);
export const vqDeviceAddress = (q: number) => ringBase[q] + usedOffset(sizes[q]);
/** Physical address of buffer `id` of queue `q`. */
export const vqBufferAddress = (q: number, id: number) => bufBase[q] + id * bufSizes[q];
export const vqSize = (q: number) => sizes[q];

/**
 * Lays out queue `q` (size n, a power of two <= MAX_QUEUE_SIZE) in the zeroed page at
 * `ring` with n buffers of `bufSize` bytes from `buffers`; device-writable buffers for a
 * receive queue. Writes the descriptor table and asks for no interrupts.
 */
export const vqSetup = (q: number, ring: number, n: number, buffers: number, bufSize: number, deviceWrites: boolean) => {
  ringBase[q] = ring;
  bufBase[q] = buffers;
  sizes[q] = n;
  bufSizes[q] = bufSize;
  availIdx[q] = 0;
  lastUsed[q] = 0;
  errors[q] = VqError.None;
  for (let i = 0; i < n; i++) {
    const address = buffers + i * bufSize;
    const d = i * 16;
    putLe32(staging, d, lo(address));
    putLe32(staging, d + 4, hi(address));
    putLe32(staging, d + 8, bufSize);
    putLe16(staging, d + 12, deviceWrites ? DESC_WRITE : 0);
    putLe16(staging, d + 14, 0);
    posted[q * MAX_QUEUE_SIZE + i] = 0;
    postedLen[q * MAX_QUEUE_SIZE + i] = 0;
  }
  writePhys(ring, n * 16);
  putLe16(staging, 0, AVAIL_NO_INTERRUPT);
  putLe16(staging, 2, 0);
  writePhys(ring + availOffset(n), 4);
};

/** Sets the length of descriptor `id` (a transmit buffer's packet length). */
export const vqSetLength = (q: number, id: number, len: number) => {
  putLe32(staging, 0, len);
  writePhys(ringBase[q] + id * 16 + 8, 4);
};

/** Makes descriptor `id` (buffer length `len`) available to the device (2.7.13). */
export const vqPost = (q: number, id: number, len: number) => {
  const n = sizes[q];
  const avail = ringBase[q] + availOffset(n);
  const index = availIdx[q];
  posted[q * MAX_QUEUE_SIZE + id] = 1;
  postedLen[q * MAX_QUEUE_SIZE + id] = len;
  putLe16(staging, 0, id);
  writePhys(avail + 4 + 2 * (index % n), 2); // the ring entry first,
  const next = (index + 1) & 0xffff;
  putLe16(staging, 0, next);
  writePhys(avail + 2, 2); // then the index that publishes it
  availIdx[q] = next;
};

/** Whether the device wants a notification now (it has not set VIRTQ_USED_F_NO_NOTIFY, 2.7.10). */
export const vqNotifyWanted = (q: number) => {
  readPhys(ringBase[q] + usedOffset(sizes[q]), 2);
  return (le16(staging, 0) & USED_NO_NOTIFY) === 0;
};

/** Buffers made available and not yet returned. */
export const vqOutstanding = (q: number) => (availIdx[q] - lastUsed[q]) & 0xffff;

const broken = (q: number, error: number, a: number, b: number, c: number) => {
  errors[q] = error;
  errorArgs[q * 3] = a;
  errorArgs[q * 3 + 1] = b;
  errorArgs[q * 3 + 2] = c;
  return -1;
};

/**
 * How many used elements wait to be consumed, or -1 when the device's used index moved
 * further than the buffers it was given (the queue is then broken).
 */
export const vqUsedCount = (q: number) => {
  if (errors[q] !== VqError.None) return -1;
  readPhys(ringBase[q] + usedOffset(sizes[q]) + 2, 2);
  const idx = le16(staging, 0);
  const ready = (idx - lastUsed[q]) & 0xffff;
  const outstanding = vqOutstanding(q);
  if (ready > outstanding) return broken(q, VqError.IndexJump, lastUsed[q], idx, outstanding);
  return ready;
};

let peekId = 0;
let peekLen = 0;
/** The id and length of the element vqPeek read. */
export const vqPeekId = () => peekId;
export const vqPeekLength = () => peekLen;

/**
 * Reads the next used element (vqUsedCount must have said there is one) and checks it:
 * a posted descriptor, a length within its buffer. False when not (the queue is broken).
 */
export const vqPeek = (q: number) => {
  if (errors[q] !== VqError.None) return false;
  const n = sizes[q];
  readPhys(ringBase[q] + usedOffset(n) + 4 + 8 * (lastUsed[q] % n), 8);
  const id = le32(staging, 0);
  const len = le32(staging, 4);
  if (id >= n || posted[q * MAX_QUEUE_SIZE + id] === 0) {
    broken(q, VqError.UnknownId, id, n, 0);
    return false;
  }
  if (len > postedLen[q * MAX_QUEUE_SIZE + id]) {
    broken(q, VqError.BadLength, id, len, postedLen[q * MAX_QUEUE_SIZE + id]);
    return false;
  }
  peekId = id;
  peekLen = len;
  return true;
};

/** Consumes the element vqPeek read: its descriptor is the driver's again. */
export const vqPop = (q: number) => {
  posted[q * MAX_QUEUE_SIZE + peekId] = 0;
  lastUsed[q] = (lastUsed[q] + 1) & 0xffff;
};

/** VqError of a broken queue (0 while it is sound) and its details. */
export const vqError = (q: number) => errors[q];
export const vqErrorArg = (q: number, i: number) => errorArgs[q * 3 + i];
