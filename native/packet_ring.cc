#include "packet_ring.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace migscope {
namespace {

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
  std::vector<uint32_t> next;  // reader r's next block (reader r's thread only)
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

std::mutex gMu;
std::map<uint32_t, std::shared_ptr<Ring>> gRings;
uint32_t gNextId = 1;

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

std::shared_ptr<Ring> Find(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowCode(info.Env(), "CAPTURE", "expected a packet ring id");
    return nullptr;
  }
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::lock_guard<std::mutex> lock(gMu);
  auto it = gRings.find(id);
  if (it == gRings.end()) {
    ThrowCode(info.Env(), "CAPTURE", "packet ring " + std::to_string(id) + " is closed");
    return nullptr;
  }
  return it->second;
}

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

bool SetFilter(int fd, const sock_filter* insns, size_t n, OpenFailure& f) {
  sock_fprog prog{static_cast<unsigned short>(n), const_cast<sock_filter*>(insns)};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) return f.Errno("SO_ATTACH_FILTER");
  return true;
}

// One socket: a drop-everything filter first (nothing reaches the ring before every
// socket of the group has joined, so no packet goes to a socket outside the flow split),
// then the TPACKET_V3 ring, mapped once, bound to the interface.
bool OpenOne(const OpenConfig& cfg, int ifindex, Ring& r, OpenFailure& f) {
  r.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: receives nothing until bind
  if (r.fd < 0) return f.Errno("AF_PACKET socket");
  static const sock_filter kDropAll[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  if (!SetFilter(r.fd, kDropAll, 1, f)) return false;
  int version = TPACKET_V3;
  if (setsockopt(r.fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) return f.Errno("TPACKET_V3");
  tpacket_req3 req{};
  req.tp_block_size = cfg.blockSize;
  req.tp_block_nr = cfg.blockCount;
  req.tp_frame_size = 2048;  // V3 packs frames of any size into blocks; this only has to divide them
  req.tp_frame_nr = cfg.blockSize / req.tp_frame_size * cfg.blockCount;
  req.tp_retire_blk_tov = cfg.retireMs;  // hand a block over this long after it opened, full or not
  if (setsockopt(r.fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) return f.Errno("PACKET_RX_RING");
  r.blockSize = cfg.blockSize;
  r.blockCount = cfg.blockCount;
  r.mapLen = size_t(cfg.blockSize) * cfg.blockCount;
  void* p = mmap(nullptr, r.mapLen, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
  if (p == MAP_FAILED) return f.Errno("mmap of the packet ring");
  r.map = static_cast<uint8_t*>(p);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(r.fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) return f.Errno("bind to " + cfg.iface);
  if (cfg.promisc || cfg.dpmiMulticast) {
    packet_mreq mr{};
    mr.mr_ifindex = ifindex;
    mr.mr_type = cfg.promisc ? PACKET_MR_PROMISC : PACKET_MR_ALLMULTI;
    if (setsockopt(r.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) return f.Errno("PACKET_ADD_MEMBERSHIP");
  }
  r.readers = cfg.readers;
  r.next.assign(cfg.readers, 0);
  r.released.reset(new std::atomic<uint32_t>[cfg.blockCount]);
  for (uint32_t b = 0; b < cfg.blockCount; b++) r.released[b].store(0, std::memory_order_relaxed);
  for (uint32_t i = 0; i < cfg.readers; i++) {
    const int w = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w < 0) return f.Errno("eventfd");
    r.wakeFds.push_back(w);
  }
  return true;
}

// Ethernet-framed devices only (loopback frames carry a zeroed Ethernet header): other
// link layers keep the libpcap path, which knows their headers.
bool LinkTypeOf(int fd, const std::string& iface, Ring& r, OpenFailure& f) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return f.Errno("SIOCGIFHWADDR " + iface);
  const int hw = ifr.ifr_hwaddr.sa_family;
  if (hw != ARPHRD_ETHER && hw != ARPHRD_LOOPBACK) {
    return f.Set("UNSUPPORTED", iface + " is not an Ethernet device (ARPHRD " + std::to_string(hw) + ")");
  }
  r.linkType = DLT_EN10MB;
  r.loopback = hw == ARPHRD_LOOPBACK;
  return true;
}

bool OpenGroup(const OpenConfig& cfg, std::vector<std::shared_ptr<Ring>>& rings, uint32_t& fanoutId, OpenFailure& f) {
  if (!cfg.netns.empty()) {
    const std::string path = cfg.netns.find('/') == std::string::npos ? "/var/run/netns/" + cfg.netns : cfg.netns;
    const int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return f.Set("NOT_FOUND", "cannot open network namespace " + path + ": " + std::strerror(errno));
    const int rc = setns(nsfd, CLONE_NEWNET);
    const int e = errno;
    ::close(nsfd);
    if (rc != 0) return f.Set("PERMISSION", "cannot enter network namespace " + path + ": " + std::strerror(e));
  }
  const int ifindex = static_cast<int>(if_nametoindex(cfg.iface.c_str()));
  if (ifindex == 0) return f.Set("NOT_FOUND", "no such device: " + cfg.iface);
  // The filter, compiled once by libpcap for an Ethernet link and attached to every socket.
  std::vector<sock_filter> filter;
  if (!cfg.filter.empty()) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, static_cast<int>(cfg.snaplen));
    if (dead == nullptr) return f.Set("CAPTURE", "pcap_open_dead failed");
    bpf_program prog{};
    if (pcap_compile(dead, &prog, cfg.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      f.Set("BAD_FILTER", "bad capture filter \"" + cfg.filter + "\": " + pcap_geterr(dead));
      pcap_close(dead);
      return false;
    }
    static_assert(sizeof(bpf_insn) == sizeof(sock_filter), "classic BPF layouts differ");
    filter.resize(prog.bf_len);
    std::memcpy(filter.data(), prog.bf_insns, prog.bf_len * sizeof(sock_filter));
    pcap_freecode(&prog);
    pcap_close(dead);
  }
  if (cfg.checkOnly) {
    // No packet socket (it would be visible, and closing one waits for an RCU grace
    // period): the device's type through an inet socket, the right from capget.
    auto r = std::make_shared<Ring>();
    r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0) return f.Errno("socket");
    if (!LinkTypeOf(r->fd, cfg.iface, *r, f)) return false;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2]{};
    if (syscall(SYS_capget, &hdr, caps) == 0 && (caps[CAP_NET_RAW / 32].effective & (1u << (CAP_NET_RAW % 32))) == 0) {
      return f.Set("PERMISSION", "AF_PACKET needs CAP_NET_RAW");
    }
    rings.push_back(r);
    return true;
  }
  for (uint32_t i = 0; i < cfg.count; i++) {
    auto r = std::make_shared<Ring>();
    rings.push_back(r);
    if (!OpenOne(cfg, ifindex, *r, f)) return false;
    if (i == 0 && !LinkTypeOf(r->fd, cfg.iface, *r, f)) return false;
    r->linkType = rings[0]->linkType;
    r->loopback = rings[0]->loopback;
    if (cfg.count == 1) break;  // one socket (maybe several readers): no fanout group
    // Flow hash (symmetric on Linux: both directions of a connection pick one socket),
    // IP fragments reassembled first so they follow their flow; the first socket gets a
    // group id no other process uses.
    int arg = 0;
    if (i == 0) {
      arg = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
    } else {
      arg = static_cast<int>(fanoutId | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
    }
    if (setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) return f.Errno("PACKET_FANOUT");
    if (i == 0) {
      int got = 0;
      socklen_t len = sizeof got;
      if (getsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &got, &len) != 0) return f.Errno("PACKET_FANOUT id");
      fanoutId = static_cast<uint32_t>(got) & 0xffffu;
    }
  }
  // Packets are let in by Arm, once every socket has joined and its worker is ready.
  for (auto& r : rings) r->filter = filter;
  return true;
}

bool Arm(Ring& r, OpenFailure& f) {
  if (!r.filter.empty()) return SetFilter(r.fd, r.filter.data(), r.filter.size(), f);
  const int unused = 0;  // the option takes no value, but an int-sized one
  if (setsockopt(r.fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0) return f.Errno("SO_DETACH_FILTER");
  return true;
}

bool OptU32(Napi::Env env, const Napi::Object& o, const char* key, uint32_t lo, uint32_t hi, uint32_t& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
  if (!(d >= lo && d <= hi) || std::trunc(d) != d) {
    ThrowCode(env, "CAPTURE", std::string("option ") + key + " must be an integer in [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "]");
    return false;
  }
  out = static_cast<uint32_t>(d);
  return true;
}

Napi::Value OpenPacketRings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) { ThrowCode(env, "CAPTURE", "openPacketRings(options)"); return env.Null(); }
  Napi::Object o = info[0].As<Napi::Object>();
  OpenConfig cfg;
  auto str = [&](const char* k) { Napi::Value v = o.Get(k); return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(); };
  cfg.iface = str("iface");
  cfg.netns = str("netns");
  cfg.filter = str("filter");
  Napi::Value pv = o.Get("promisc");
  cfg.promisc = pv.IsBoolean() ? pv.As<Napi::Boolean>().Value() : true;
  Napi::Value cv = o.Get("checkOnly");
  cfg.checkOnly = cv.IsBoolean() && cv.As<Napi::Boolean>().Value();
  Napi::Value mv = o.Get("allMulticast");
  cfg.dpmiMulticast = mv.IsBoolean() && mv.As<Napi::Boolean>().Value();
  if (!OptU32(env, o, "count", 1, 64, cfg.count) || !OptU32(env, o, "readers", 1, 64, cfg.readers) || !OptU32(env, o, "blockSize", 1 << 16, 1 << 28, cfg.blockSize) ||
      !OptU32(env, o, "blockCount", 2, 1 << 16, cfg.blockCount) || !OptU32(env, o, "retireMs", 1, 1000, cfg.retireMs) ||
      !OptU32(env, o, "snaplen", 64, 1 << 30, cfg.snaplen)) {
    return env.Null();
  }
  const long page = sysconf(_SC_PAGESIZE);
  if (cfg.blockSize % page != 0 || (cfg.blockSize & (cfg.blockSize - 1)) != 0) {
    ThrowCode(env, "CAPTURE", "blockSize must be a power of two multiple of the page size");
    return env.Null();
  }
  if (cfg.iface.empty()) { ThrowCode(env, "CAPTURE", "openPacketRings: iface missing"); return env.Null(); }
  if (cfg.readers > 1 && cfg.count > 1) { ThrowCode(env, "CAPTURE", "several readers share one socket: count must be 1"); return env.Null(); }
  std::vector<std::shared_ptr<Ring>> rings;
  uint32_t fanoutId = 0;
  OpenFailure failure;
  bool ok = false;
  // A socket keeps the namespace it was made in: a helper thread enters it, opens, leaves.
  if (cfg.netns.empty()) {
    ok = OpenGroup(cfg, rings, fanoutId, failure);
  } else {
    std::thread t([&]() { ok = OpenGroup(cfg, rings, fanoutId, failure); });
    t.join();
  }
  if (!ok) {
    ThrowCode(env, failure.code != nullptr ? failure.code : "CAPTURE", failure.message);
    return env.Null();  // the rings opened so far close as `rings` goes
  }
  if (cfg.checkOnly) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("ids", Napi::Array::New(env, 0));
    out.Set("linkType", Napi::Number::New(env, rings[0]->linkType));
    out.Set("fanout", Napi::Number::New(env, 0));
    return out;
  }
  Napi::Array ids = Napi::Array::New(env, rings.size());
  {
    std::lock_guard<std::mutex> lock(gMu);
    for (uint32_t i = 0; i < rings.size(); i++) {
      const uint32_t id = gNextId++;
      gRings[id] = rings[i];
      ids.Set(i, Napi::Number::New(env, id));
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ids", ids);
  out.Set("linkType", Napi::Number::New(env, rings[0]->linkType));
  out.Set("fanout", Napi::Number::New(env, fanoutId));
  return out;
}

Napi::Value PacketRingView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Ring> r = Find(info);
  if (!r) return env.Null();
  // The ArrayBuffer keeps the ring (mapping and socket) alive until it is collected.
  auto* hold = new std::shared_ptr<Ring>(r);
  napi_value ab = nullptr;
  const napi_status st = napi_create_external_arraybuffer(
      env, r->map, r->mapLen, [](napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<Ring>*>(hint); }, hold,
      &ab);
  if (st != napi_ok) {
    delete hold;
    ThrowCode(env, "UNSUPPORTED", "external ArrayBuffers are not allowed in this runtime");
    return env.Null();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("buffer", Napi::Value(env, ab));
  out.Set("blockSize", Napi::Number::New(env, r->blockSize));
  out.Set("blockCount", Napi::Number::New(env, r->blockCount));
  out.Set("linkType", Napi::Number::New(env, r->linkType));
  out.Set("loopback", Napi::Boolean::New(env, r->loopback));
  out.Set("readers", Napi::Number::New(env, r->readers));
  return out;
}

// Reader index argument `at` of a call (0 when absent); false (with a JS error) when out of range.
bool ReaderOf(const Napi::CallbackInfo& info, size_t at, const Ring& r, uint32_t& reader) {
  reader = info.Length() > at && info[at].IsNumber() ? info[at].As<Napi::Number>().Uint32Value() : 0;
  if (reader < r.readers) return true;
  ThrowCode(info.Env(), "CAPTURE", "no reader " + std::to_string(reader) + " on this packet ring");
  return false;
}

// Reader `reader`'s next block offset if the kernel handed it over (acquire: its packets are visible).
int64_t NextBlock(const Ring& r, uint32_t reader) {
  const uint32_t b = r.next[reader];
  const uint32_t status = __atomic_load_n(r.Word(b, kBlockStatus), __ATOMIC_ACQUIRE);
  return (status & TP_STATUS_USER) != 0 ? int64_t(b) * r.blockSize : -1;
}

Napi::Value PacketRingNext(const Napi::CallbackInfo& info) {
  std::shared_ptr<Ring> r = Find(info);
  uint32_t reader = 0;
  if (!r || !ReaderOf(info, 1, *r, reader)) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(NextBlock(*r, reader)));
}

Napi::Value PacketRingRelease(const Napi::CallbackInfo& info) {
  std::shared_ptr<Ring> r = Find(info);
  uint32_t reader = 0;
  if (!r || !ReaderOf(info, 1, *r, reader)) return info.Env().Null();
  if (NextBlock(*r, reader) >= 0) {
    const uint32_t b = r->next[reader];
    // The last reader to finish hands the block back. Release: every read of the
    // block's packets (by any reader) happens before the kernel may refill it.
    if (r->readers == 1 || r->released[b].fetch_add(1, std::memory_order_acq_rel) + 1 == r->readers) {
      r->released[b].store(0, std::memory_order_relaxed);
      __atomic_store_n(r->Word(b, kBlockStatus), TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    }
    r->next[reader] = (b + 1) % r->blockCount;
  }
  return info.Env().Undefined();
}

Napi::Value PacketRingWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Ring> r = Find(info);
  uint32_t reader = 0;
  if (!r || !ReaderOf(info, 1, *r, reader)) return env.Null();
  const double us = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 1000;
  const bool stopped = r->stopped.load(std::memory_order_acquire);
  if (NextBlock(*r, reader) >= 0) return Napi::Number::New(env, kWaitReady);
  const int wakeFd = r->wakeFds[reader];
  pollfd fds[2] = {{r->fd, POLLIN | POLLERR, 0}, {wakeFd, POLLIN, 0}};
  const double clamped = us < 0 ? 0 : us > 1e6 ? 1e6 : us;
  timespec ts{static_cast<time_t>(clamped / 1e6), static_cast<long>(std::fmod(clamped, 1e6) * 1000)};
  // Once stopped only the socket is watched: the worker drains the blocks still retiring.
  const int rc = ppoll(fds, stopped ? 1 : 2, &ts, nullptr);
  if (rc > 0 && !stopped && (fds[1].revents & POLLIN) != 0) {
    uint64_t v = 0;
    while (read(wakeFd, &v, sizeof v) == sizeof v) {}
    return Napi::Number::New(env, r->stopped.load(std::memory_order_acquire) ? kWaitStopped : kWaitWoken);
  }
  if (NextBlock(*r, reader) >= 0) return Napi::Number::New(env, kWaitReady);
  return Napi::Number::New(env, stopped ? kWaitStopped : kWaitTimeout);
}

Napi::Value PacketRingFrontier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Ring> r = Find(info);
  uint32_t reader = 0;
  if (!r || !ReaderOf(info, 1, *r, reader)) return env.Null();
  const double baseSec = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);  // the clock the kernel stamps packets with
  if (NextBlock(*r, reader) >= 0) return Napi::Number::New(env, 0);
  const double ns = (static_cast<double>(now.tv_sec) - baseSec) * 1e9 + static_cast<double>(now.tv_nsec);
  // Our next block is the one the kernel fills (blocks go round in order): no packet in
  // it yet means every packet stamped before `now` has been handed over and read.
  const uint32_t pkts = __atomic_load_n(r->Word(r->next[reader], kBlockNumPkts), __ATOMIC_ACQUIRE);
  return Napi::Number::New(env, pkts != 0 ? -ns : ns);
}

Napi::Value PacketRingStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Ring> r = Find(info);
  if (!r) return env.Null();
  r->PollStats();
  Napi::Object out = Napi::Object::New(env);
  std::lock_guard<std::mutex> lock(r->statsMu);
  out.Set("received", Napi::Number::New(env, static_cast<double>(r->received)));
  out.Set("drops", Napi::Number::New(env, static_cast<double>(r->drops)));
  out.Set("freezes", Napi::Number::New(env, static_cast<double>(r->freezes)));
  return out;
}

void Signal(Ring& r, uint32_t reader) {
  const uint64_t one = 1;
  ssize_t n = write(r.wakeFds[reader], &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, a wake-up is pending anyway
}
void SignalAll(Ring& r) {
  for (uint32_t i = 0; i < r.readers; i++) Signal(r, i);
}

Napi::Value PacketRingArm(const Napi::CallbackInfo& info) {
  std::shared_ptr<Ring> r = Find(info);
  if (!r) return info.Env().Null();
  OpenFailure f;
  if (!Arm(*r, f)) ThrowCode(info.Env(), f.code, f.message);
  return info.Env().Undefined();
}

Napi::Value PacketRingStop(const Napi::CallbackInfo& info) {
  std::shared_ptr<Ring> r = Find(info);
  if (!r) return info.Env().Null();
  r->stopped.store(true, std::memory_order_release);
  SignalAll(*r);
  return info.Env().Undefined();
}

Napi::Value PacketRingWake(const Napi::CallbackInfo& info) {
  std::shared_ptr<Ring> r = Find(info);
  uint32_t reader = 0;
  if (!r || !ReaderOf(info, 1, *r, reader)) return info.Env().Null();
  Signal(*r, reader);
  return info.Env().Undefined();
}

Napi::Value PacketRingClose(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) {
    std::shared_ptr<Ring> r;
    {
      std::lock_guard<std::mutex> lock(gMu);
      auto it = gRings.find(info[0].As<Napi::Number>().Uint32Value());
      if (it != gRings.end()) { r = it->second; gRings.erase(it); }
    }
    if (r) {
      r->stopped.store(true, std::memory_order_release);
      SignalAll(*r);
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void InitPacketRing(Napi::Env env, Napi::Object exports) {
  exports.Set("openPacketRings", Napi::Function::New(env, OpenPacketRings));
  exports.Set("packetRingView", Napi::Function::New(env, PacketRingView));
  exports.Set("packetRingNext", Napi::Function::New(env, PacketRingNext));
  exports.Set("packetRingRelease", Napi::Function::New(env, PacketRingRelease));
  exports.Set("packetRingWait", Napi::Function::New(env, PacketRingWait));
  exports.Set("packetRingFrontier", Napi::Function::New(env, PacketRingFrontier));
  exports.Set("packetRingStats", Napi::Function::New(env, PacketRingStats));
  exports.Set("packetRingArm", Napi::Function::New(env, PacketRingArm));
  exports.Set("packetRingStop", Napi::Function::New(env, PacketRingStop));
  exports.Set("packetRingWake", Napi::Function::New(env, PacketRingWake));
  exports.Set("packetRingClose", Napi::Function::New(env, PacketRingClose));
}

}  // namespace migscope
