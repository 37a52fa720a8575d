// Single-producer side of a ring (see ring_format.h). Runs on the capture thread only.
// Never blocks: a record that does not fit is dropped and counted.
#pragma once
#include <cstdint>
#include <cstring>

#include "mapped_file.h"
#include "ring_format.h"

namespace migscope {

struct RecordMeta {
  uint16_t linkType;
  uint32_t wireLen;
  uint64_t sec;
  uint64_t psec;
  uint64_t seq;
  const char* nic;     // 8 bytes or nullptr
  const char* mampid;  // 8 bytes or nullptr
};

class RingWriter {
 public:
  RingWriter() = default;
  RingWriter(uint8_t* base, uint32_t capacity)
      : base_(base), data_(base + kControlBytes), capacity_(capacity), mask_(capacity - 1) {
    head_ = Load(kOffHead);
    tailCache_ = Load(kOffTail);
  }

  // Writes one packet record; returns false (and counts a drop) when the ring is full.
  bool Push(const RecordMeta& m, const uint8_t* bytes, uint32_t caplen) {
    if (TryPush(m, bytes, caplen)) return true;
    CountDrop(caplen);
    return false;
  }

  void CountDrop(uint32_t caplen) {
    Bump(droppedRecords_, 1);
    Bump(droppedBytes_, caplen);
    Store(kOffDropRecords, static_cast<uint32_t>(droppedRecords_));
    Store(kOffDropBytes, static_cast<uint32_t>(droppedBytes_));
  }

  // Writes one packet record if it fits; nothing is counted when it does not.
  bool TryPush(const RecordMeta& m, const uint8_t* bytes, uint32_t caplen) {
    const uint32_t need = Align8(kRecHeader + caplen);
    uint8_t* rec = Reserve(need, kEofSlack);
    if (rec == nullptr) return false;
    Put32(rec + kRecOffLength, need);
    Put16(rec + kRecOffKind, kRecPacket);
    Put16(rec + kRecOffLinkType, m.linkType);
    Put32(rec + kRecOffCaplen, caplen);
    Put32(rec + kRecOffWireLen, m.wireLen);
    Put64(rec + kRecOffSec, m.sec);
    Put64(rec + kRecOffPsec, m.psec);
    Put64(rec + kRecOffSeq, m.seq);
    if (m.nic != nullptr) std::memcpy(rec + kRecOffNic, m.nic, 8); else std::memset(rec + kRecOffNic, 0, 8);
    if (m.mampid != nullptr) std::memcpy(rec + kRecOffMampid, m.mampid, 8); else std::memset(rec + kRecOffMampid, 0, 8);
    std::memcpy(rec + kRecHeader, bytes, caplen);
    gBytesCopied.fetch_add(caplen, std::memory_order_relaxed);
    Publish();
    Bump(written_, 1);
    return true;
  }

  // End of stream, stamped with the capture's last wire time (so every consumer ends
  // its flows at the same instant). Always fits: packets leave kEofSlack bytes free.
  bool PushEof(uint64_t sec, uint64_t psec) {
    uint8_t* rec = Reserve(kEofSlack, 0);
    if (rec == nullptr) return false;
    Put32(rec + kRecOffLength, kEofSlack);
    Put16(rec + kRecOffKind, kRecEof);
    Put16(rec + kRecOffLinkType, 0);
    Put32(rec + kRecOffCaplen, 0);
    Put32(rec + kRecOffWireLen, 0);
    Put64(rec + kRecOffSec, sec);
    Put64(rec + kRecOffPsec, psec);
    Publish();
    Store(kOffProducerDone, 1);
    return true;
  }

  // Read from the JS thread while the capture thread counts: relaxed atomics.
  void StoreFrontier(uint64_t nextSeq) { Store(kOffSeqFrontier, static_cast<uint32_t>(nextSeq)); }

  uint64_t written() const { return __atomic_load_n(&written_, __ATOMIC_RELAXED); }
  uint64_t droppedRecords() const { return __atomic_load_n(&droppedRecords_, __ATOMIC_RELAXED); }
  uint64_t droppedBytes() const { return __atomic_load_n(&droppedBytes_, __ATOMIC_RELAXED); }

 private:
  // Packets always leave 32 bytes free so the EOF marker fits without waiting.
  static constexpr uint32_t kEofSlack = 32;
  static uint32_t Align8(uint32_t n) { return (n + 7u) & ~7u; }
  static void Bump(uint64_t& c, uint64_t by) {
    __atomic_store_n(&c, c + by, __ATOMIC_RELAXED);  // single writer
  }

  // Finds room for `need` contiguous bytes, writing a wrap marker if the record does not
  // fit before the end of the data region. Returns nullptr when there is not enough room.
  // `slack` more bytes must stay free after the record.
  uint8_t* Reserve(uint32_t need, uint32_t slack) {
    if (need > capacity_ / 2) return nullptr;  // never fits sensibly: treat as full
    const uint32_t pos = head_ & mask_;
    const uint32_t toEnd = capacity_ - pos;
    const uint32_t total = need <= toEnd ? need : toEnd + need;
    if (!HasRoom(total + slack)) return nullptr;
    if (need > toEnd) {
      uint8_t* wrap = data_ + pos;
      Put32(wrap + kRecOffLength, toEnd);
      Put16(wrap + kRecOffKind, kRecWrap);
      pendingHead_ = head_ + toEnd;
      reserved_ = need;
      return data_;
    }
    pendingHead_ = head_;
    reserved_ = need;
    return data_ + pos;
  }

  bool HasRoom(uint32_t total) {
    if (capacity_ - (head_ - tailCache_) >= total) return true;
    tailCache_ = Load(kOffTail);  // acquire: the consumer is done with those bytes
    return capacity_ - (head_ - tailCache_) >= total;
  }

  void Publish() {
    head_ = pendingHead_ + reserved_;
    __atomic_store_n(reinterpret_cast<uint32_t*>(base_ + kOffHead), head_, __ATOMIC_RELEASE);
  }

  uint32_t Load(uint32_t off) const {
    return __atomic_load_n(reinterpret_cast<uint32_t*>(base_ + off), __ATOMIC_ACQUIRE);
  }
  void Store(uint32_t off, uint32_t v) {
    __atomic_store_n(reinterpret_cast<uint32_t*>(base_ + off), v, __ATOMIC_RELEASE);
  }
  // Little-endian host (x86-64, aarch64): plain stores via memcpy keep alignment rules happy.
  static void Put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
  static void Put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
  static void Put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

  uint8_t* base_ = nullptr;
  uint8_t* data_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t mask_ = 0;
  uint32_t head_ = 0;
  uint32_t tailCache_ = 0;
  uint32_t pendingHead_ = 0;
  uint32_t reserved_ = 0;
  uint64_t written_ = 0;
  uint64_t droppedRecords_ = 0;
  uint64_t droppedBytes_ = 0;
};

}  // namespace migscope
