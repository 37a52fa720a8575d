// AF_PACKET TPACKET_V3 receive rings read in place by the decode workers (zero copy).
// Each decode worker owns one socket of a PACKET_FANOUT group; the kernel writes packets
// into the socket's mapped ring and the worker's JavaScript walks them there (an external
// ArrayBuffer over the mapping), then hands each block back. Nothing is copied.
// JS surface (typed in src/ingest/live/packet-ring.ts), main thread:
//   openPacketRings(options) -> { ids, linkType, fanout }   (throws with code NOT_FOUND/
//                         PERMISSION/BAD_FILTER/UNSUPPORTED/CAPTURE; with checkOnly the
//                         same checks, and no socket opened: ids is empty)
//   packetRingStats(id) -> { received, drops, freezes }     (PACKET_STATISTICS, cumulative)
//   packetRingArm(id)   attaches the filter: the sockets receive nothing before (all of
//                       the group joined and the workers warmed up first)
//   packetRingStop(id)  the worker's wait returns STOPPED from now on
//   packetRingWake(id, reader)  that reader's current wait returns WOKEN
//   packetRingClose(id) drops the opener's reference (the worker's views keep the ring)
// and in the worker that reads ring `id` as reader `reader` (options.readers workers may
// share one socket's ring, each walking every block: count must then be 1):
//   packetRingView(id) -> { buffer, blockSize, blockCount, linkType, loopback, readers }
//   packetRingNext(id, reader) -> byte offset of its next block if the kernel handed it over, else -1
//   packetRingRelease(id, reader)  done with that block (the last reader hands it back), moves on
//   packetRingWait(id, reader, timeoutUs) -> READY | TIMEOUT | WOKEN | STOPPED (see kWait*)
//   packetRingFrontier(id, reader, baseSec) -> CLOCK_REALTIME in ns since baseSec (> 0), read
//                         just before finding no block handed over and the kernel's
//                         current block empty (so every packet stamped before it has been
//                         read); the same negated while the kernel's block holds packets;
//                         0 when a block is waiting to be read
#pragma once
#include <napi.h>

namespace migscope {

void InitPacketRing(Napi::Env env, Napi::Object exports);

}  // namespace migscope
