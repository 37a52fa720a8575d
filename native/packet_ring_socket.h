// Internal to the packet ring: the state of one AF_PACKET TPACKET_V3 socket and its
// mapped ring (shared by packet_ring.cc, the N-API surface, block walk and stats, and
// packet_ring_socket.cc, which opens, configures and arms the sockets).
#pragma once

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace migscope {
namespace packet_ring {

// tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 (block_status, num_pkts, …).
constexpr uint32_t kBlockStatus = 8;
constexpr uint32_t kBlockNumPkts = 12;

enum WaitResult { kWaitTimeout = 0, kWaitReady = 1, kWaitWoken = 2, kWaitStopped = 3 };

struct Ring {
  int fd = -1;
  // Readers of the one ring: each walks every block; a block goes back to the kernel
  // once all of them released it (DPMI: each worker decodes its flows' records of
  // every frame). One wake-up eventfd and one position per reader.
  uint32_t readers = 1;
  std::vector<int> wakeFds;
  // Reader r's next block: written by reader r's thread (release, after the block went
  // back), read by it and by the main thread (frontier of an idle reader, acquire).
  std::unique_ptr<std::atomic<uint32_t>[]> next;
  std::unique_ptr<std::atomic<uint32_t>[]> released;  // per block: readers done with it
  uint8_t* map = nullptr;
  size_t mapLen = 0;
  uint32_t blockSize = 0;
  uint32_t blockCount = 0;
  int linkType = 1;
  bool loopback = false;  // outgoing copies of loopback packets are skipped, as libpcap does
  std::atomic<bool> stopped{false};
  std::vector<sock_filter> filter;  // attached by packetRingArm (empty: accept all)
  std::mutex statsMu;
  uint64_t received = 0, drops = 0, freezes = 0;

  ~Ring() {
    if (map != nullptr) munmap(map, mapLen);
    if (fd >= 0) ::close(fd);
    for (int w : wakeFds) ::close(w);
  }
  uint32_t* Word(uint32_t block, uint32_t off) const {
    return reinterpret_cast<uint32_t*>(map + size_t(block) * blockSize + off);
  }
  // PACKET_STATISTICS resets the kernel's counters on every read: accumulate them here.
  void PollStats() {
    tpacket_stats_v3 st{};
    socklen_t len = sizeof st;
    std::lock_guard<std::mutex> lock(statsMu);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return;
    received += st.tp_packets;  // the kernel counts drops in tp_packets too (as ps_recv)
    drops += st.tp_drops;
    freezes += st.tp_freeze_q_cnt;
  }
};

struct OpenConfig {
  std::string iface, netns, filter;
  uint32_t count = 1, readers = 1, blockSize = 1 << 18, blockCount = 128, retireMs = 1, snaplen = 262144;
  bool promisc = true;
  bool dpmiMulticast = false;  // dpmi-iface without promiscuous mode: join all multicast
  bool checkOnly = false;      // validate name, link type, filter and right; open nothing
};

struct OpenFailure {
  const char* code = nullptr;
  std::string message;
  bool Set(const char* c, const std::string& m) { code = c; message = m; return false; }
  bool Errno(const std::string& what) {
    const int e = errno;
    const char* c = (e == EPERM || e == EACCES) ? "PERMISSION"
                    : (e == EAFNOSUPPORT || e == EPROTONOSUPPORT || e == ENOPROTOOPT) ? "UNSUPPORTED"
                    : "CAPTURE";
    return Set(c, what + ": " + std::strerror(e));
  }
};

// Opens cfg.count sockets (one fanout group when more than one) in cfg.netns, each with
// its mapped ring and a drop-everything filter; with cfg.checkOnly only validates.
bool OpenGroup(const OpenConfig& cfg, std::vector<std::shared_ptr<Ring>>& rings, uint32_t& fanoutId, OpenFailure& f);
// Lets packets in: the group's filter (or none) replaces the drop-everything one.
bool Arm(Ring& r, OpenFailure& f);

}  // namespace packet_ring
}  // namespace migscope
