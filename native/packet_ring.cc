#include "packet_ring.h"
#include "packet_ring_socket.h"

#include <poll.h>

#include <cmath>
#include <ctime>
#include <map>
#include <thread>

namespace migscope {
namespace {

using packet_ring::kBlockNumPkts;
using packet_ring::kBlockStatus;
using packet_ring::OpenConfig;
using packet_ring::OpenFailure;
using packet_ring::Ring;
using packet_ring::kWaitReady;
using packet_ring::kWaitStopped;
using packet_ring::kWaitTimeout;
using packet_ring::kWaitWoken;

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
  const uint32_t b = r.next[reader].load(std::memory_order_acquire);
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
    const uint32_t b = r->next[reader].load(std::memory_order_relaxed);
    // The last reader to finish hands the block back. Release: every read of the
    // block's packets (by any reader) happens before the kernel may refill it.
    if (r->readers == 1 || r->released[b].fetch_add(1, std::memory_order_acq_rel) + 1 == r->readers) {
      r->released[b].store(0, std::memory_order_relaxed);
      __atomic_store_n(r->Word(b, kBlockStatus), TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    }
    // Release: a thread that sees the reader past this block also sees what it did
    // before handing it back (the decode worker posted the block's messages first).
    r->next[reader].store((b + 1) % r->blockCount, std::memory_order_release);
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
  const uint32_t pkts = __atomic_load_n(r->Word(r->next[reader].load(std::memory_order_acquire), kBlockNumPkts), __ATOMIC_ACQUIRE);
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
