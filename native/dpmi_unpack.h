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

// One stream per multicast destination MAC (as src/ingest/dpmi/frames.ts); small fixed
// table, no allocation.
class DpmiSequenceTracker {
 public:
  // Returns false for a duplicate (a frame seen twice, e.g. on loopback).
  bool Accept(const uint8_t* dstMac, uint32_t seq, DpmiCounters& c) {
    Stream* s = Find(dstMac);
    if (s == nullptr) return true;  // table full: cannot track, accept
    if (!s->seen) { s->seen = true; s->last = seq; return true; }
    const uint32_t expected = (s->last + 1) & 0xffffu;
    if (seq == s->last) { c.duplicateFrames++; return false; }
    if (seq != expected) c.lostFrames += (seq - expected) & 0xffffu;
    s->last = seq;
    return true;
  }

 private:
  struct Stream { uint8_t mac[6]; bool used = false; bool seen = false; uint32_t last = 0; };
  Stream* Find(const uint8_t* mac) {
    for (auto& s : streams_) {
      if (s.used && std::memcmp(s.mac, mac, 6) == 0) return &s;
    }
    for (auto& s : streams_) {
      if (!s.used) { s.used = true; std::memcpy(s.mac, mac, 6); return &s; }
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
  if (!seqs.Accept(frame, Be32(sh), c)) return;
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
