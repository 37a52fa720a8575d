// migscope native addon: AF_PACKET rings read in place by decode workers (packet_ring.h),
// and libpcap capture threads feeding SPSC rings in SharedArrayBuffers (the fallback).
// JS surface (typed in src/ingest/live/native.ts):
//   new Capture(options, rings: Uint8Array[] over SharedArrayBuffers, onEnd(err|null))
//   capture.start(), capture.stop(), capture.stats()
#include <napi.h>
#include <pcap/pcap.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "capture_session.h"
#include "mapped_file.h"
#include "packet_ring.h"
#include "record_index.h"
#include "ring_format.h"

namespace migscope {
namespace {

const char* CodeOf(OpenError e) {
  switch (e) {
    case OpenError::NotFound: return "NOT_FOUND";
    case OpenError::Permission: return "PERMISSION";
    case OpenError::PromiscPermission: return "PROMISC_PERMISSION";
    case OpenError::BadFilter: return "BAD_FILTER";
    default: return "CAPTURE";
  }
}

void ThrowWithCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

std::string OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
// An integer option in [lo, hi]: absent (undefined) keeps `out`; anything else that is
// not an integer in range (NaN, 1.5, -1 for a size, 2^40 for an int) throws a CAPTURE
// error naming the option instead of being truncated by a cast.
bool OptInt(Napi::Env env, const Napi::Object& o, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::trunc(d) != d) {
    ThrowWithCode(env, "CAPTURE", std::string("option ") + key + " must be an integer in [" + std::to_string(lo) + ", " +
                                      std::to_string(hi) + "]");
    return false;
  }
  out = static_cast<int64_t>(d);
  return true;
}

// A ring must be a Uint8Array over a SharedArrayBuffer: the consumer (a worker) reads it
// while the capture thread writes, which a plain ArrayBuffer (copied or detached on
// transfer) cannot give. N-API has no SharedArrayBuffer check on Node 20: the backing
// store must not be an ArrayBuffer and must be an instance of SharedArrayBuffer.
bool IsSharedUint8Array(Napi::Env env, const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, v, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) return false;
  bool plain = true;
  if (napi_is_arraybuffer(env, buffer, &plain) != napi_ok || plain) return false;
  Napi::Value ctor = env.Global().Get("SharedArrayBuffer");
  if (!ctor.IsFunction()) return false;
  bool shared = false;
  if (napi_instanceof(env, buffer, ctor, &shared) != napi_ok) return false;
  return shared;
}
bool OptBool(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture",
                       {InstanceMethod("start", &Capture::Start), InstanceMethod("stop", &Capture::Stop),
                        InstanceMethod("stats", &Capture::Stats)});
  }

  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsArray() || !info[2].IsFunction()) {
      ThrowWithCode(env, "CAPTURE", "Capture(options, rings, onEnd): bad arguments");
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    SessionConfig cfg;
    const std::string kind = OptString(o, "kind");
    if (kind == "file") cfg.kind = SourceKind::File;
    else if (kind == "iface") cfg.kind = SourceKind::Iface;
    else if (kind == "dpmi-iface") cfg.kind = SourceKind::DpmiIface;
    else if (kind == "synthetic") cfg.kind = SourceKind::Synthetic;
    else { ThrowWithCode(env, "CAPTURE", "unknown source kind: " + kind); return; }
    cfg.target = OptString(o, "target");
    cfg.filter = OptString(o, "filter");
    cfg.netns = OptString(o, "netns");
    cfg.mampid = OptString(o, "mampid");
    cfg.multicast = OptString(o, "multicast");
    int64_t snaplen = cfg.snaplen, bufferSize = cfg.bufferSize, timeoutMs = cfg.timeoutMs;
    int64_t count = 0, minLen = 0, maxLen = 0;
    // Sizes a libpcap int takes; synthetic record lengths must fit a ring (≤ 2^30).
    if (!OptInt(env, o, "snaplen", 1, 1 << 30, snaplen) || !OptInt(env, o, "bufferSize", 1, INT32_MAX, bufferSize) ||
        !OptInt(env, o, "timeoutMs", 0, 60'000, timeoutMs) || !OptInt(env, o, "count", 0, int64_t(1) << 53, count) ||
        !OptInt(env, o, "minLen", 0, 1 << 30, minLen) || !OptInt(env, o, "maxLen", 0, 1 << 30, maxLen)) {
      return;
    }
    cfg.snaplen = static_cast<int>(snaplen);
    cfg.promisc = OptBool(o, "promisc", cfg.kind == SourceKind::Iface);
    cfg.bufferSize = static_cast<int>(bufferSize);
    cfg.timeoutMs = static_cast<int>(timeoutMs);
    // Immediate mode makes libpcap use TPACKET_V2 with one snaplen-sized slot per packet:
    // with a 256 KiB snaplen a 32 MiB buffer holds only 128 packets and a burst drops
    // half (measured on a veth at 160k pps). TPACKET_V3 blocks + a 50 ms timeout instead.
    cfg.immediate = OptBool(o, "immediate", false);
    cfg.blockWhenFull = OptBool(o, "blockWhenFull", cfg.kind == SourceKind::File);
    cfg.synthCount = static_cast<uint64_t>(count);
    cfg.synthMinLen = static_cast<uint32_t>(minLen);
    cfg.synthMaxLen = static_cast<uint32_t>(maxLen);
    if (cfg.synthMaxLen < cfg.synthMinLen) cfg.synthMaxLen = cfg.synthMinLen;

    Napi::Array arr = info[1].As<Napi::Array>();
    std::vector<RingWriter> writers;
    if (arr.Length() == 0) { ThrowWithCode(env, "CAPTURE", "at least one ring is needed"); return; }
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!IsSharedUint8Array(env, v)) {
        ThrowWithCode(env, "CAPTURE", "rings must be Uint8Arrays over SharedArrayBuffers");
        return;
      }
      Napi::Uint8Array u8 = v.As<Napi::Uint8Array>();
      uint8_t* base = u8.Data();
      const size_t len = u8.ByteLength();
      uint32_t magic = 0, cap = 0;
      if (len >= kControlBytes) {
        std::memcpy(&magic, base + kOffMagic, 4);
        std::memcpy(&cap, base + kOffCapacity, 4);
      }
      if (magic != kRingMagic || cap == 0 || (cap & (cap - 1)) != 0 || kControlBytes + size_t(cap) > len) {
        ThrowWithCode(env, "CAPTURE", "ring " + std::to_string(i) + " is not an initialised migscope ring");
        return;
      }
      writers.emplace_back(base, cap);
      ringRefs_.push_back(Napi::Persistent(v.As<Napi::Object>()));  // keep the SAB alive
    }
    session_ = std::make_unique<CaptureSession>(std::move(cfg), std::move(writers));
    OpenError err;
    std::string message;
    if (!session_->Open(err, message)) {
      session_.reset();
      ThrowWithCode(env, CodeOf(err), message);
      return;
    }
    onEnd_ = Napi::Persistent(info[2].As<Napi::Function>());
  }

  ~Capture() override {
    if (session_) session_->Stop();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!session_ || started_) { ThrowWithCode(env, "CAPTURE", "capture already started or not open"); return env.Undefined(); }
    started_ = true;
    tsfn_ = Napi::ThreadSafeFunction::New(env, onEnd_.Value(), "migscope-capture-end", 0, 1);
    CaptureSession* s = session_.get();
    Napi::ThreadSafeFunction tsfn = tsfn_;
    s->Start([s, tsfn]() mutable {
      const std::string error = s->error();
      tsfn.BlockingCall([error](Napi::Env e, Napi::Function cb) {
        cb.Call({error.empty() ? e.Null() : Napi::String::New(e, error)});
      });
      tsfn.Release();
    });
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (session_) session_->Stop();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    if (!session_) return out;
    const Counters& c = session_->counters();
    auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
    auto ld = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    out.Set("packets", num(ld(c.packets)));
    out.Set("bytes", num(ld(c.bytes)));
    out.Set("kernelReceived", num(ld(c.kernelRecv)));
    out.Set("kernelDrops", num(ld(c.kernelDrop)));
    out.Set("interfaceDrops", num(ld(c.kernelIfDrop)));
    out.Set("dpmiFrames", num(ld(c.dpmiFrames)));
    out.Set("dpmiLostFrames", num(ld(c.dpmiLost)));
    out.Set("dpmiDuplicateFrames", num(ld(c.dpmiDup)));
    out.Set("dpmiMalformedFrames", num(ld(c.dpmiMalformed)));
    out.Set("dpmiFilteredRecords", num(ld(c.dpmiFiltered)));
    out.Set("blockedWaits", num(ld(c.blockedWaits)));
    out.Set("linkType", Napi::Number::New(env, session_->linkType()));
    Napi::Array rings = Napi::Array::New(env);
    const auto& rs = session_->rings();
    for (uint32_t i = 0; i < rs.size(); i++) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("written", num(rs[i].written()));
      r.Set("dropped", num(rs[i].droppedRecords()));
      r.Set("droppedBytes", num(rs[i].droppedBytes()));
      rings.Set(i, r);
    }
    out.Set("rings", rings);
    return out;
  }

  // Members are destroyed in reverse order: the session (whose thread writes into the
  // rings) goes before the references that keep the rings' memory alive, even when the
  // object is collected without stop().
  std::vector<Napi::ObjectReference> ringRefs_;
  Napi::FunctionReference onEnd_;
  std::unique_ptr<CaptureSession> session_;
  Napi::ThreadSafeFunction tsfn_;
  bool started_ = false;
};

Napi::Value PcapVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pcapVersion", Napi::Function::New(env, PcapVersion));
  exports.Set("Capture", Capture::Define(env));
  // Every constant of ring_format.h, so src/ingest/live/native.ts can compare them all.
  Napi::Object layout = Napi::Object::New(env);
  const std::pair<const char*, uint32_t> constants[] = {
      {"magic", kRingMagic}, {"controlBytes", kControlBytes},
      {"offHead", kOffHead}, {"offTail", kOffTail}, {"offMagic", kOffMagic}, {"offCapacity", kOffCapacity},
      {"offDropRecords", kOffDropRecords}, {"offDropBytes", kOffDropBytes}, {"offProducerDone", kOffProducerDone},
      {"offSeqFrontier", kOffSeqFrontier}, {"recordHeaderBytes", kRecHeader},
      {"recLength", kRecOffLength}, {"recKind", kRecOffKind}, {"recLinkType", kRecOffLinkType},
      {"recCaplen", kRecOffCaplen}, {"recWireLength", kRecOffWireLen}, {"recSec", kRecOffSec},
      {"recPsec", kRecOffPsec}, {"recSeq", kRecOffSeq}, {"recNic", kRecOffNic}, {"recMampid", kRecOffMampid},
      {"kindPacket", kRecPacket}, {"kindWrap", kRecWrap}, {"kindEof", kRecEof},
  };
  for (const auto& [name, value] : constants) layout.Set(name, Napi::Number::New(env, value));
  exports.Set("ringLayout", layout);
  InitMappedFile(env, exports);
  InitPacketRing(env, exports);
  InitRecordIndex(env, exports);
  return exports;
}

}  // namespace
}  // namespace migscope

Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return migscope::Init(env, exports); }

NODE_API_MODULE(migscope_native, InitModule)
