// Ring layout shared with src/ingest/live/ring-layout.ts. Change both together.
//
// A ring is one SharedArrayBuffer: a 256-byte control block, then a power-of-two data
// region. head and tail are free-running 32-bit byte counters (position = counter &
// (capacity - 1)); used = head - tail (mod 2^32). The producer (capture thread) is the
// only writer of head, the consumer (one worker) the only writer of tail. They sit on
// separate 64-byte lines so producer and consumer don't false-share.
#pragma once
#include <cstdint>

namespace migscope {

constexpr uint32_t kRingMagic = 0x4d475231;  // "MGR1"
constexpr uint32_t kControlBytes = 256;

// Control block, byte offsets (all naturally aligned 32-bit words).
constexpr uint32_t kOffHead = 0;          // u32, producer, release-stored
constexpr uint32_t kOffTail = 64;         // u32, consumer, release-stored (Atomics.store)
constexpr uint32_t kOffMagic = 128;       // u32, written by JS at allocation
constexpr uint32_t kOffCapacity = 132;    // u32, data region bytes (power of two)
constexpr uint32_t kOffDropRecords = 136; // u32, records dropped because the ring was full
constexpr uint32_t kOffDropBytes = 140;   // u32, captured bytes of those records (mod 2^32)
constexpr uint32_t kOffProducerDone = 144; // u32, 1 once the EOF record is published
// Ring 0 only: capture sequence frontier (next sequence number, mod 2^32), stored with
// release after every record. Every record with a smaller sequence number is already
// published in its ring, so an idle consumer can advance its watermark to frontier - 1.
constexpr uint32_t kOffSeqFrontier = 192;

// Record header (8-byte aligned, 56 bytes), followed by caplen bytes, padded to 8.
constexpr uint32_t kRecHeader = 56;
constexpr uint32_t kRecOffLength = 0;   // u32 total record bytes incl. header+padding
constexpr uint32_t kRecOffKind = 4;     // u16 RecordKind
constexpr uint32_t kRecOffLinkType = 6; // u16 LINKTYPE_*
constexpr uint32_t kRecOffCaplen = 8;   // u32
constexpr uint32_t kRecOffWireLen = 12; // u32
constexpr uint32_t kRecOffSec = 16;     // u64 seconds since the epoch
constexpr uint32_t kRecOffPsec = 24;    // u64 picoseconds within the second (< 1e12)
constexpr uint32_t kRecOffSeq = 32;     // u64 capture sequence number (global, all rings)
constexpr uint32_t kRecOffNic = 40;     // char[8] DPMI nic, NUL-padded (zero otherwise)
constexpr uint32_t kRecOffMampid = 48;  // char[8] DPMI mampid, NUL-padded

enum RecordKind : uint16_t {
  kRecPacket = 1,
  kRecWrap = 2,  // skip to the start of the data region
  kRecEof = 3,   // 32 bytes: the producer ended (EOF, stop, error); sec/psec = last packet's time
};

}  // namespace migscope
