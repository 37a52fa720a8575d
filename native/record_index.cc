// The pcap record walk of a file worker (src/ingest/record-index.ts), in C++: every
// worker of `analyze --workers N FILE` walks the record headers of the whole file, but
// its JS sees only the packets it owns (flow_owner.h), as offsets into a window of the
// file's mapping — no read() copy, no per-packet call from C++ into JS or back.
// JS surface:
//   indexPcapRecords(window: Uint8Array, cfg: Float64Array, state: Float64Array,
//                    out: Float64Array) -> number of entries written to `out`
//   flowOwner(bytes: Uint8Array, start, end, wireLength, linkType, workers) -> worker
// The layouts of cfg, state and out are the constants below, mirrored in record-index.ts.
//
// The walk takes only records the JS PcapReader (src/ingest/formats/pcap-reader.ts)
// would take without any doubt: a plausible header, not empty, within a day of the
// previous record, not a DPMI measurement frame to unpack. Anything else, and a record
// cut by the end of the file, stops the walk with HANDOVER: the JS reader resumes at
// that record with the same state, so damaged files are counted exactly as one thread
// counts them.
#include "record_index.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "flow_owner.h"

namespace migscope {
namespace {

// cfg: constant for the file, except the housekeeping time.
enum Cfg {
  kWorkers, kIndex, kLittleEndian, kNanosecond, kRecordHeader, kLinkType, kMaxCaplen,
  kNextHkSec, kNextHkPsec, kWindowStart, kFileEnd, kUnpackDpmi, kMaxSpan, kCfgSize,
};
// state: where the walk is (updated by every call).
enum State {
  kPos, kSeq, kLastSec, kLastPktSec, kLastPktPsec, kPackets, kBytes, kStop, kStateSize,
};
// Why a call returned (kFull: `out` is full or the span walked).
enum Stop { kFull = 0, kHousekeeping = 1, kWindow = 2, kEnd = 3, kHandover = 4 };
// out: per listed packet.
enum Out { kOSeq, kOOff, kOLen, kOWire, kOSec, kOPsec, kOOwn, kStride };

constexpr double kResyncWindowS = 86400;

inline uint32_t Rd32(const uint8_t* p, bool le) {
  return le ? (uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24))
            : owner_detail::Be32(p);
}

// dpmiSendheadOffset(...) >= 0 in src/ingest/dpmi/frames.ts.
inline bool IsDpmiFrame(const uint8_t* p, uint32_t len, uint32_t linkType) {
  if (linkType != 1 || len < 14) return false;
  const uint32_t type = owner_detail::Be16(p + 12);
  if (type == 0x0810) return true;
  return type == 0x8100 && len >= 18 && owner_detail::Be16(p + 16) == 0x0810;
}

bool TypedArray(Napi::Value v, napi_typedarray_type want, void** data, size_t* length) {
  if (!v.IsTypedArray()) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(v.Env(), v, &type, length, data, &ab, &offset) != napi_ok) return false;
  return type == want;
}

Napi::Value IndexPcapRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void *wd, *cd, *sd, *od;
  size_t wl, cl, sl, ol;
  if (info.Length() < 4 || !TypedArray(info[0], napi_uint8_array, &wd, &wl) ||
      !TypedArray(info[1], napi_float64_array, &cd, &cl) || cl < kCfgSize ||
      !TypedArray(info[2], napi_float64_array, &sd, &sl) || sl < kStateSize ||
      !TypedArray(info[3], napi_float64_array, &od, &ol) || ol < kStride) {
    Napi::TypeError::New(env, "indexPcapRecords(window, cfg, state, out)").ThrowAsJavaScriptException();
    return env.Null();
  }
  const uint8_t* win = static_cast<const uint8_t*>(wd);
  const double* cfg = static_cast<const double*>(cd);
  double* st = static_cast<double*>(sd);
  double* out = static_cast<double*>(od);
  const size_t capacity = ol / kStride;
  const uint32_t workers = uint32_t(cfg[kWorkers]), index = uint32_t(cfg[kIndex]);
  const bool le = cfg[kLittleEndian] != 0, unpackDpmi = cfg[kUnpackDpmi] != 0;
  const double fracScale = cfg[kNanosecond] != 0 ? 1000 : 1000000;
  const uint32_t fracLimit = cfg[kNanosecond] != 0 ? 1000000000u : 1000000u;
  const uint32_t hdr = uint32_t(cfg[kRecordHeader]), linkType = uint32_t(cfg[kLinkType]);
  const uint32_t maxCaplen = uint32_t(cfg[kMaxCaplen]);
  const double hkSec = cfg[kNextHkSec], hkPsec = cfg[kNextHkPsec];
  const double winStart = cfg[kWindowStart], fileEnd = cfg[kFileEnd];
  const double winEnd = winStart + double(wl);
  // Bytes one call may walk: a worker that owns few packets still comes back often, to
  // post its watermark and to release the pages behind it (resident memory stays flat).
  const size_t maxSpan = size_t(cfg[kMaxSpan]);
  // The window must hold the walk's position (JS maps it from there).
  if (!(st[kPos] >= winStart && st[kPos] <= winEnd) || winEnd > fileEnd || workers < 1 || index >= workers) {
    Napi::RangeError::New(env, "indexPcapRecords: position outside the window").ThrowAsJavaScriptException();
    return env.Null();
  }
  size_t rel = size_t(st[kPos] - winStart);
  double seq = st[kSeq], lastSec = st[kLastSec], packets = st[kPackets], bytes = st[kBytes];
  double lastPktSec = st[kLastPktSec], lastPktPsec = st[kLastPktPsec];
  size_t n = 0;
  Stop stop = kFull;
  const bool windowIsTail = winEnd >= fileEnd;
  const size_t spanEnd = rel + maxSpan;
  while (n < capacity && rel < spanEnd) {
    if (winStart + double(rel) >= fileEnd) { stop = kEnd; break; }
    const size_t avail = wl - rel;
    // A record header or body past the window: the next window, or a cut record at the end.
    if (avail < hdr) { stop = windowIsTail ? kHandover : kWindow; break; }
    const uint8_t* h = win + rel;
    const uint32_t sec = Rd32(h, le), frac = Rd32(h + 4, le), caplen = Rd32(h + 8, le), orig = Rd32(h + 12, le);
    if (frac >= fracLimit || caplen > maxCaplen || caplen == 0 ||
        (lastSec >= 0 && std::fabs(double(sec) - lastSec) > kResyncWindowS)) {
      stop = kHandover;
      break;
    }
    const size_t total = size_t(hdr) + caplen;
    if (avail < total) { stop = windowIsTail ? kHandover : kWindow; break; }
    // The walk is bound by memory latency (one record header after another): ask for
    // the next header, and a guess at the one after, while this packet is looked at.
    __builtin_prefetch(h + total);
    __builtin_prefetch(h + 2 * total);
    const uint8_t* data = h + hdr;
    if (unpackDpmi && IsDpmiFrame(data, caplen, linkType)) { stop = kHandover; break; }
    const double psec = double(frac) * fracScale;
    const uint32_t wire = orig > caplen ? orig : caplen;
    const bool hk = !(double(sec) < hkSec || (double(sec) == hkSec && psec < hkPsec));
    const bool own = FlowOwner(win, uint32_t(rel + hdr), uint32_t(rel + total), wire, linkType, workers) == index;
    if (own || hk) {
      double* o = out + n * kStride;
      o[kOSeq] = seq;
      o[kOOff] = double(rel + hdr);
      o[kOLen] = caplen;
      o[kOWire] = wire;
      o[kOSec] = sec;
      o[kOPsec] = psec;
      o[kOOwn] = own ? 1 : 0;
      n++;
    }
    seq++;
    packets++;
    bytes += caplen;
    lastSec = sec;
    lastPktSec = sec;
    lastPktPsec = psec;
    rel += total;
    // The packet at the dissector's next housekeeping time ends the batch: the worker
    // runs the housekeeping there (passedAt) before it asks for more.
    if (hk) { stop = kHousekeeping; break; }
  }
  st[kPos] = winStart + double(rel);
  st[kSeq] = seq;
  st[kLastSec] = lastSec;
  st[kLastPktSec] = lastPktSec;
  st[kLastPktPsec] = lastPktPsec;
  st[kPackets] = packets;
  st[kBytes] = bytes;
  st[kStop] = stop;
  return Napi::Number::New(env, double(n));
}

Napi::Value FlowOwnerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* d;
  size_t len;
  if (info.Length() < 6 || !TypedArray(info[0], napi_uint8_array, &d, &len)) {
    Napi::TypeError::New(env, "flowOwner(bytes, start, end, wireLength, linkType, workers)").ThrowAsJavaScriptException();
    return env.Null();
  }
  const double start = info[1].ToNumber().DoubleValue(), end = info[2].ToNumber().DoubleValue();
  if (!(start >= 0 && start <= end && end <= double(len))) {
    Napi::RangeError::New(env, "flowOwner: range outside the bytes").ThrowAsJavaScriptException();
    return env.Null();
  }
  const uint32_t owner = FlowOwner(static_cast<const uint8_t*>(d), uint32_t(start), uint32_t(end),
                                   info[3].ToNumber().Uint32Value(), info[4].ToNumber().Uint32Value(),
                                   info[5].ToNumber().Uint32Value());
  return Napi::Number::New(env, owner);
}

}  // namespace

void InitRecordIndex(Napi::Env env, Napi::Object exports) {
  exports.Set("indexPcapRecords", Napi::Function::New(env, IndexPcapRecords));
  exports.Set("flowOwner", Napi::Function::New(env, FlowOwnerJs));
}

}  // namespace migscope
