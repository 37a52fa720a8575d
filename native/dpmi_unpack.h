// DPMI measurement frames (EtherType 0x0810, /work/shared/dpmi-format.md): a 16-byte
// network-order send header, then capture records (36-byte host-order header + bytes).
// Unpacks each record into a callback without copying; counts sequence gaps per stream.
#pragma once
#include <cstdint>
#include <cstring>

namespace migscope {

struct DpmiCounters {
  uint64_t frames = 0;
  uint64_t lostFrames = 0;
  uint64_t duplicateFrames = 0;
  uint64_t reorderedFrames = 0;
  uint64_t sequenceRestarts = 0;
  uint64_t malformedFrames = 0;
  uint64_t records = 0;
  uint64_t filteredRecords = 0;  // other measurement points when a mampid was asked for
};

struct DpmiRecord {
  const char* nic;     // 8 bytes
  const char* mampid;  // 8 bytes
  uint64_t sec;
  uint64_t psec;
  uint32_t wireLen;
  uint32_t caplen;
  const uint8_t* bytes;
};

// Sequence accounting of measurement frames, the same rules as src/ingest/dpmi/frames.ts
// (SequenceWindow): one sequence per sender (destination + source MAC: several MPs may
// share a multicast address). The reference sender counts (seq + 1) mod 0xFFFF, so
// 0xFFFE is followed by 0. A frame after one flagged SENDER_FLUSH starts a new sequence
// (a restart, not a loss). Frames up to kWindow behind the newest are late (reordered)
// or duplicates, told apart by a bitmap; a late frame takes back the loss its gap
// counted. Further behind: a restart without a flush. Small fixed table, no allocation.
class DpmiSequenceTracker {
 public:
  static constexpr uint32_t kModulus = 0xFFFF;
  static constexpr uint32_t kWindow = 32;
  static constexpr uint32_t kSenderFlush = 0x1;
  enum Verdict { kAccept, kDuplicate, kOutOfRange };

  Verdict Accept(const uint8_t* frame, uint32_t seq, uint32_t flags, DpmiCounters& c) {
    if (seq > kModulus) return kOutOfRange;
    if (seq == kModulus) return kAccept;  // a sender counting mod 0x10000: not tracked
    Stream* s = Find(frame);
    if (s == nullptr) return kAccept;  // table full: cannot track, accept
    const bool flush = (flags & kSenderFlush) != 0;
    if (!s->seen) { s->seen = true; Restart(*s, seq, flush); return kAccept; }
    const uint32_t ahead = (seq + kModulus - s->highest) % kModulus;
    if (ahead == 0) { c.duplicateFrames++; return kDuplicate; }
    if (s->flushed) { c.sequenceRestarts++; Restart(*s, seq, flush); return kAccept; }
    if (ahead < kModulus / 2) {
      c.lostFrames += ahead - 1;
      s->window = ahead >= kWindow ? 1u : (s->window << ahead) | 1u;
      s->span = s->span + ahead > kWindow ? kWindow : s->span + ahead;
      s->highest = seq;
      s->flushed = flush;
      return kAccept;
    }
    const uint32_t behind = kModulus - ahead;
    if (behind < s->span) {
      const uint32_t bit = 1u << behind;
      if ((s->window & bit) != 0) { c.duplicateFrames++; return kDuplicate; }
      s->window |= bit;
      if (c.lostFrames > 0) c.lostFrames--;
      c.reorderedFrames++;
      return kAccept;
    }
    if (behind < kWindow) { c.reorderedFrames++; return kAccept; }  // older than the first frame seen
    c.sequenceRestarts++;
    Restart(*s, seq, flush);
    return kAccept;
  }

 private:
  struct Stream {
    uint8_t macs[12]; bool used = false; bool seen = false; bool flushed = false;
    uint32_t highest = 0; uint32_t window = 0; uint32_t span = 0;
  };
  static void Restart(Stream& s, uint32_t seq, bool flush) {
    s.highest = seq; s.window = 1; s.span = 1; s.flushed = flush;
  }
  Stream* Find(const uint8_t* frame) {
    for (auto& s : streams_) {
      if (s.used && std::memcmp(s.macs, frame, 12) == 0) return &s;
    }
    for (auto& s : streams_) {
      if (!s.used) { s.used = true; std::memcpy(s.macs, frame, 12); return &s; }
    }
    return nullptr;
  }
  Stream streams_[16];
};

inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint32_t Le32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t Le64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

constexpr uint32_t kDpmiSendHead = 16;
constexpr uint32_t kDpmiCapHead = 36;
constexpr uint16_t kDpmiEtherType = 0x0810;

// Calls onRecord(const DpmiRecord&) per capture record of one Ethernet frame.
template <typename OnRecord>
void UnpackDpmiFrame(const uint8_t* frame, uint32_t len, const char* wantMampid,
                     DpmiSequenceTracker& seqs, DpmiCounters& c, OnRecord&& onRecord) {
  if (len < 14 + kDpmiSendHead || ((uint32_t(frame[12]) << 8) | frame[13]) != kDpmiEtherType) {
    c.malformedFrames++;
    return;
  }
  c.frames++;
  const uint8_t* sh = frame + 14;
  const auto verdict = seqs.Accept(frame, Be32(sh), Be32(sh + 8), c);
  if (verdict == DpmiSequenceTracker::kOutOfRange) { c.malformedFrames++; return; }
  if (verdict == DpmiSequenceTracker::kDuplicate) return;
  const uint32_t nopkts = Be32(sh + 4);
  uint32_t off = 14 + kDpmiSendHead;
  for (uint32_t i = 0; i < nopkts; i++) {
    if (off + kDpmiCapHead > len) { c.malformedFrames++; return; }
    const uint8_t* h = frame + off;
    const uint32_t wire = Le32(h + 28), cap = Le32(h + 32);
    if (cap > len - off - kDpmiCapHead) { c.malformedFrames++; return; }
    c.records++;
    if (wantMampid != nullptr && std::strncmp(wantMampid, reinterpret_cast<const char*>(h + 8), 8) != 0) {
      c.filteredRecords++;
    } else {
      DpmiRecord r{reinterpret_cast<const char*>(h), reinterpret_cast<const char*>(h + 8),
                   Le32(h + 16), Le64(h + 20), wire, cap, h + kDpmiCapHead};
      onRecord(r);
    }
    off += kDpmiCapHead + cap;
  }
}

}  // namespace migscope
