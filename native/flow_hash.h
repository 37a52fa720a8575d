// Symmetric 5-tuple hash: both directions of a connection land on the same ring, so one
// worker owns each TCP flow. Packets without a 5-tuple we can read (non-IP, ARP/RARP,
// ICMP, truncated headers) go to ring 0 (kFixedRing) so link-level announcements stay
// in capture order on one worker. IP fragments hash on (addresses, protocol) only.
#pragma once
#include <cstdint>
#include <cstring>

namespace migscope {

constexpr uint32_t kFixedRing = 0;
constexpr uint32_t kNoFlow = 0xffffffffu;  // "use the fixed ring"

namespace detail {
inline uint32_t Fmix(uint32_t h) {  // murmur3 finaliser: good avalanche, no state
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
  return h;
}
inline uint32_t Rd16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
inline uint32_t Rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint32_t Endpoint(const uint8_t* addr, unsigned addrLen, uint32_t port) {
  uint32_t h = 0x9e3779b9u ^ port;
  for (unsigned i = 0; i < addrLen; i += 4) h = Fmix(h ^ Rd32(addr + i)) + i;
  return h;
}
// Commutative combination of the two endpoints, then the protocol.
inline uint32_t Tuple(const uint8_t* a, const uint8_t* b, unsigned len, uint32_t pa, uint32_t pb,
                      uint32_t proto) {
  return Fmix((Endpoint(a, len, pa) + Endpoint(b, len, pb)) ^ (proto * 0x27d4eb2du));
}
}  // namespace detail

// Returns a hash of the flow, or kNoFlow when the packet belongs on the fixed ring.
inline uint32_t FlowHash(const uint8_t* p, uint32_t len, uint32_t linkType) {
  using namespace detail;
  uint32_t off = 0, etherType = 0;
  switch (linkType) {
    case 1:  // Ethernet, with any number of 802.1Q/802.1ad tags
      if (len < 14) return kNoFlow;
      etherType = Rd16(p + 12); off = 14;
      while ((etherType == 0x8100 || etherType == 0x88a8) && off + 4 <= len) {
        etherType = Rd16(p + off + 2); off += 4;
      }
      break;
    case 113:  // Linux cooked v1
      if (len < 16) return kNoFlow;
      etherType = Rd16(p + 14); off = 16; break;
    case 276:  // Linux cooked v2
      if (len < 20) return kNoFlow;
      etherType = Rd16(p); off = 20; break;
    case 101:  // raw IP
      if (len < 1) return kNoFlow;
      etherType = (p[0] >> 4) == 6 ? 0x86dd : 0x0800; break;
    case 0:  // BSD loopback: host-order AF_ value
      if (len < 4) return kNoFlow;
      off = 4; etherType = (p[4 < len ? 4 : 0] >> 4) == 6 ? 0x86dd : 0x0800; break;
    default:
      return kNoFlow;
  }
  const uint8_t* ip = p + off;
  const uint32_t rest = len - off;
  if (etherType == 0x0800) {
    if (rest < 20) return kNoFlow;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t proto = ip[9];
    if (ihl < 20 || rest < ihl) return kNoFlow;
    if (proto != 6 && proto != 17 && proto != 132) return kNoFlow;  // ICMP etc.
    const bool fragment = (Rd16(ip + 6) & 0x3fff) != 0;  // MF set or offset != 0
    if (fragment || rest < ihl + 4) return Tuple(ip + 12, ip + 16, 4, 0, 0, proto);
    return Tuple(ip + 12, ip + 16, 4, Rd16(ip + ihl), Rd16(ip + ihl + 2), proto);
  }
  if (etherType == 0x86dd) {
    if (rest < 40) return kNoFlow;
    uint32_t next = ip[6], hoff = 40;
    bool fragment = false;
    // Walk the common extension headers to find the transport header.
    for (int i = 0; i < 8; i++) {
      if (next == 0 || next == 43 || next == 60) {
        if (rest < hoff + 8) return kNoFlow;
        next = ip[hoff]; hoff += (ip[hoff + 1] + 1u) * 8u;
      } else if (next == 44) {
        if (rest < hoff + 8) return kNoFlow;
        fragment = true; next = ip[hoff]; hoff += 8;
      } else {
        break;
      }
    }
    if (next != 6 && next != 17 && next != 132) return kNoFlow;
    if (fragment || rest < hoff + 4) return Tuple(ip + 8, ip + 24, 16, 0, 0, next);
    return Tuple(ip + 8, ip + 24, 16, Rd16(ip + hoff), Rd16(ip + hoff + 2), next);
  }
  return kNoFlow;
}

inline uint32_t RingFor(uint32_t hash, uint32_t rings) {
  return hash == kNoFlow ? kFixedRing : hash % rings;
}

}  // namespace migscope
