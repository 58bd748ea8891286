//! The firmware's Simple Network Protocol (UEFI 2.10 section 24.1), per handle index, for
//! the Snp migration sink. Mechanical calls only: which handle, when to start, retries and
//! what an error means are decided in TypeScript (drivers/snp/snp.ts).
const std = @import("std");
const uefi = std.os.uefi;
const efi = @import("efi.zig");

const Snp = uefi.protocols.SimpleNetworkProtocol;

var handles: [8]uefi.Handle = undefined;
var count: usize = 0;
var released: [8]uefi.Handle = undefined;
var released_count: usize = 0;

/// LocateHandleBuffer(ByProtocol, SNP) (UEFI 2.10 section 7.3.15): remembers up to 8
/// handles in the firmware's order and returns how many.
pub fn locate() usize {
    const bs = uefi.system_table.boot_services.?;
    var n: usize = 0;
    var list: [*]uefi.Handle = undefined;
    count = 0;
    if (bs.locateHandleBuffer(.ByProtocol, &Snp.guid, null, &n, &list) != .Success) return 0;
    for (list[0..n]) |h| {
        if (count == handles.len) break;
        handles[count] = h;
        count += 1;
    }
    _ = bs.freePool(@ptrCast(@alignCast(list)));
    return count;
}

/// The SNP interface of handle `index` (from the last locate), or null.
pub fn get(index: u32) ?*const Snp {
    if (index >= count) return null;
    var iface: ?*anyopaque = null;
    if (uefi.system_table.boot_services.?.handleProtocol(handles[index], &Snp.guid, &iface) != .Success) return null;
    return @ptrCast(@alignCast(iface orelse return null));
}

/// DisconnectController on the SNP handle, its child controllers first: the drivers above
/// SNP (MNP, ARP, IP, PXE, ...) stop and no longer poll Receive; the SNP driver itself (on
/// the parent PCI handle) stays. 0 on success, -1 no such handle, -2 no driver on it,
/// else the EFI status code. Reconnected on the way back to the firmware.
pub fn release(index: u32) i64 {
    if (index >= count) return -1;
    const h = handles[index];
    if (!efi.hasDriver(h)) return -2;
    var known = false;
    for (released[0..released_count]) |r| known = known or r == h;
    if (!known and released_count < released.len) {
        released[released_count] = h;
        released_count += 1;
    }
    return efi.statusCode(efi.disconnectTree(h, 0));
}

pub fn reconnect() void {
    const bs = uefi.system_table.boot_services.?;
    for (released[0..released_count]) |h| _ = bs.connectController(h, null, null, true);
    released_count = 0;
}
