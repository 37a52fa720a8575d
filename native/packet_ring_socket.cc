// Opening the AF_PACKET sockets of a packet ring group: namespace, device and link
// type checks, the filter compiled by libpcap, TPACKET_V3 rings mapped once, the
// PACKET_FANOUT group, and arming (see packet_ring.h for the JS surface).
#include "packet_ring_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

namespace migscope {
namespace packet_ring {
namespace {

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
  r.next.reset(new std::atomic<uint32_t>[cfg.readers]);
  for (uint32_t i = 0; i < cfg.readers; i++) r.next[i].store(0, std::memory_order_relaxed);
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

}  // namespace

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

}  // namespace packet_ring
}  // namespace migscope
