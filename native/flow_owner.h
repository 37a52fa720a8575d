// Which of N file workers owns a packet: an exact port of FlowSplitter.owner
// (src/pipeline/ring/flow-split.ts) and of the header checks of parsePacket
// (src/decode/{link,ip,transport}.ts) it depends on. The record indexer
// (record_index.cc) runs it on every packet of a capture file so that a worker's JS
// never touches the packets of other workers; both sides must choose the same worker
// for every packet or a flow would be decoded in two halves, so
// test/native/record-index.test.ts compares the two on every packet of several traces
// and on random bytes. Reads stay inside [p, p + len).
#pragma once
#include <cstdint>

namespace migscope {
namespace owner_detail {

inline uint32_t Be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint32_t Fmix(uint32_t h) {
  h ^= h >> 16; h *= 0x85ebca6bu;
  h ^= h >> 13; h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}
// flow-split.ts endpoint(): IPv6 addresses, one round per word.
inline uint32_t Endpoint6(const uint32_t* w, uint32_t port) {
  uint32_t h = 0x9e3779b9u ^ port;
  h = Fmix(h ^ w[0]) + 1;
  h = Fmix(h ^ w[1]) + 2;
  h = Fmix(h ^ w[2]) + 3;
  return Fmix(h ^ w[3]);
}

// What parsePacket leaves in the PacketView fields the owner reads.
struct Headers {
  uint32_t etherType = 0, l3 = 0;
  int ipVersion = 0;
  bool fragment = false;
  uint32_t proto = 0;
  int64_t l4 = 0, l4End = 0;
  int64_t l4Wire = 0;
  uint32_t src[4] = {0, 0, 0, 0}, dst[4] = {0, 0, 0, 0};
  uint32_t srcPort = 0, dstPort = 0;
};

constexpr uint32_t kVlan = 0x8100, kQinQ = 0x88a8, kQinQOld = 0x9100;

// link.ts parseLink. false = a parse error (the owner is then 0).
inline bool Link(const uint8_t* b, uint32_t start, uint32_t end, uint32_t linkType, Headers& h) {
  uint32_t off, type;
  switch (linkType) {
    case 1:  // Ethernet II; an 802.3 length field is "not IP"
      if (start + 14 > end) return false;
      type = Be16(b + start + 12);
      if (type < 0x0600) { h.etherType = 0; h.l3 = start + 14; return true; }
      off = start + 14;
      break;
    case 113:  // Linux cooked v1
      if (start + 16 > end) return false;
      type = Be16(b + start + 14); off = start + 16;
      break;
    case 276:  // Linux cooked v2
      if (start + 20 > end) return false;
      type = Be16(b + start); off = start + 20;
      break;
    case 101: case 228: case 229: {  // raw IP: the version nibble decides
      if (start >= end) return false;
      const uint32_t v = b[start] >> 4;
      if (v == 4) h.etherType = 0x0800; else if (v == 6) h.etherType = 0x86dd; else return false;
      h.l3 = start;
      return true;
    }
    case 0: case 108: {  // BSD loopback: the family in host order (0) or network order (108)
      if (start + 4 > end) return false;
      const uint8_t* q = b + start;
      const uint32_t le = q[0] | (uint32_t(q[1]) << 8) | (uint32_t(q[2]) << 16) | (uint32_t(q[3]) << 24);
      const uint32_t be = Be32(q);
      const uint32_t family = linkType == 108 ? be : le < 0x10000 ? le : be;
      if (family == 2) h.etherType = 0x0800;
      else if (family == 24 || family == 28 || family == 30 || family == 10) h.etherType = 0x86dd;
      else h.etherType = 0;
      h.l3 = start + 4;
      return true;
    }
    default:
      return false;
  }
  int depth = 0;
  while (type == kVlan || type == kQinQ || type == kQinQOld) {
    if (++depth > 8) return false;
    if (off + 4 > end) return false;
    type = Be16(b + off + 2);
    off += 4;
  }
  h.etherType = type;
  h.l3 = off;
  return true;
}

// ip.ts parseIpv4; `wire` is the packet's wire length measured from `start`.
inline bool Ipv4(const uint8_t* b, uint32_t start, uint32_t capEnd, int64_t wire, Headers& h) {
  const uint32_t off = h.l3;
  if (off + 20 > capEnd) return false;
  if (b[off] >> 4 != 4) return false;
  const uint32_t ihl = (b[off] & 0x0f) * 4u;
  if (ihl < 20 || off + ihl > capEnd) return false;
  int64_t total = Be16(b + off + 2);
  if (total == 0) total = wire - (int64_t(off) - start);
  if (total < ihl) return false;
  h.ipVersion = 4;
  h.fragment = (Be16(b + off + 6) & 0x3fff) != 0;
  h.proto = b[off + 9];
  h.src[3] = Be32(b + off + 12);
  h.dst[3] = Be32(b + off + 16);
  h.l4 = int64_t(off) + ihl;
  const int64_t e = int64_t(off) + total;
  h.l4End = e < capEnd ? e : capEnd;
  h.l4Wire = total - ihl;
  return true;
}

// ip.ts parseIpv6 with its extension-header walk.
inline bool Ipv6(const uint8_t* b, uint32_t start, uint32_t bEnd, int64_t wire, Headers& h) {
  const uint32_t off = h.l3;
  if (off + 40 > bEnd) return false;
  if (b[off] >> 4 != 6) return false;
  int64_t payload = Be16(b + off + 4);
  if (payload == 0) payload = wire - (int64_t(off) - start) - 40;
  if (payload < 0) return false;
  h.ipVersion = 6;
  h.fragment = false;
  for (int i = 0; i < 4; i++) { h.src[i] = Be32(b + off + 8 + 4 * i); h.dst[i] = Be32(b + off + 24 + 4 * i); }
  const int64_t end = int64_t(off) + 40 + payload;
  const int64_t capEnd = end < bEnd ? end : bEnd;
  uint32_t next = b[off + 6];
  int64_t p = off + 40;
  for (int i = 0;; i++) {
    if (i > 16) return false;
    if (next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140) {
      if (p + 8 > capEnd) return false;
      next = b[p];
      p += (int64_t(b[p + 1]) + 1) * 8;
    } else if (next == 51) {
      if (p + 8 > capEnd) return false;
      next = b[p];
      p += (int64_t(b[p + 1]) + 2) * 4;
    } else if (next == 44) {
      if (p + 8 > capEnd) return false;
      if ((Be16(b + p + 2) & 0xfff9) != 0) h.fragment = true;
      next = b[p];
      p += 8;
    } else {
      break;
    }
  }
  if (p > end) return false;
  h.proto = next;
  h.l4 = p;
  h.l4End = capEnd;
  h.l4Wire = end - p;
  return true;
}

// transport.ts parseTcp / parseUdp: only their error checks and the ports.
inline bool Transport(const uint8_t* b, Headers& h) {
  const int64_t off = h.l4;
  if (h.proto == 6) {
    if (off + 20 > h.l4End) return false;
    const int64_t hlen = (b[off + 12] >> 4) * 4;
    if (hlen < 20 || hlen > h.l4Wire || off + hlen > h.l4End) return false;
  } else if (h.proto == 17) {
    if (off + 8 > h.l4End) return false;
    const uint32_t len = Be16(b + off + 4);
    if (len != 0 && len < 8) return false;
  } else {
    return true;
  }
  h.srcPort = Be16(b + off);
  h.dstPort = Be16(b + off + 2);
  return true;
}

}  // namespace owner_detail

// FlowSplitter.owner for the packet b[start, end) of `wireLength` bytes on the wire.
inline uint32_t FlowOwner(const uint8_t* b, uint32_t start, uint32_t end, uint32_t wireLength, uint32_t linkType,
                          uint32_t workers) {
  using namespace owner_detail;
  if (workers <= 1) return 0;
  Headers h;
  if (!Link(b, start, end, linkType, h)) return 0;
  if (h.etherType == 0x0800) {
    if (!Ipv4(b, start, end, wireLength, h)) return 0;
  } else if (h.etherType == 0x86dd) {
    if (!Ipv6(b, start, end, wireLength, h)) return 0;
  } else {
    return 0;
  }
  if (h.fragment) return 0;
  if (!Transport(b, h)) return 0;
  uint32_t srcPort = h.srcPort, dstPort = h.dstPort;
  const uint32_t proto = h.proto;
  if (proto != 6 && proto != 17) {
    // Only a whole ICMP/ICMPv6 echo request or reply is spread (by host pair).
    const bool v6 = h.ipVersion == 6;
    if (proto != (v6 ? 58u : 1u) || h.l4End - h.l4 < 8) return 0;
    const uint8_t t = b[h.l4];
    if (!(v6 ? (t == 128 || t == 129) : (t == 8 || t == 0))) return 0;
    srcPort = 0;
    dstPort = 0;
  }
  uint32_t a, z;
  if (h.ipVersion == 4) {
    a = Fmix((0x9e3779b9u ^ srcPort) ^ h.src[3]);
    z = Fmix((0x9e3779b9u ^ dstPort) ^ h.dst[3]);
  } else {
    a = Endpoint6(h.src, srcPort);
    z = Endpoint6(h.dst, dstPort);
  }
  return Fmix((a + z) ^ (proto * 0x27d4eb2du)) % workers;
}

}  // namespace migscope
