// Capture files mapped read-only into memory and handed to JS as windows: external
// ArrayBuffers over the mapping itself, so the readers parse the page cache in place
// (no read() copy). JS surface (typed in src/ingest/mapped-file.ts):
//   mapFile(path) -> { mapping, size }      (throws with code NOT_FOUND/PERMISSION/CAPTURE)
//   mapWindow(mapping, offset, length) -> ArrayBuffer over [offset, offset + length)
//   releasePages(mapping, offset, length)   the reader is done with those bytes: drop
//                                           them from this process (they stay cached)
//   unmapFile(mapping)                      no new windows; unmapped once every window
//                                           is collected
//   copyCounters() -> { mappings, windows, bytesCopied }  (live mappings/windows, and
//                    packet bytes any capture path of this process copied)
#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace migscope {
namespace {

std::atomic<uint64_t> gLiveMappings{0};
std::atomic<uint64_t> gLiveWindows{0};

// One mapping, shared by its windows. `refs` counts the owner (until unmapFile), the
// JS handle (until collected: a call with a stale handle finds the struct, never freed
// memory) and every window ArrayBuffer not yet collected; the last one to go unmaps.
struct Mapping {
  uint8_t* base = nullptr;
  size_t size = 0;
  std::atomic<int> refs{1};
  bool ownerReleased = false;
};

void Unref(Mapping* m) {
  if (m->refs.fetch_sub(1) == 1) {
    if (m->base != nullptr) munmap(m->base, m->size);
    gLiveMappings.fetch_sub(1);
    delete m;
  }
}

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

Mapping* MappingOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    ThrowCode(info.Env(), "CAPTURE", "expected a mapping from mapFile()");
    return nullptr;
  }
  Mapping* m = info[0].As<Napi::External<Mapping>>().Data();
  if (m->ownerReleased) {
    ThrowCode(info.Env(), "CAPTURE", "mapping already released by unmapFile()");
    return nullptr;
  }
  return m;
}

// offset and length as integers inside the mapping; false (with a JS error) otherwise.
bool Range(const Napi::CallbackInfo& info, const Mapping* m, size_t& offset, size_t& length) {
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
    ThrowCode(info.Env(), "CAPTURE", "expected (mapping, offset, length)");
    return false;
  }
  const double o = info[1].As<Napi::Number>().DoubleValue();
  const double l = info[2].As<Napi::Number>().DoubleValue();
  if (!(o >= 0 && l >= 0 && o + l <= static_cast<double>(m->size)) || o != static_cast<double>(static_cast<size_t>(o)) ||
      l != static_cast<double>(static_cast<size_t>(l))) {
    ThrowCode(info.Env(), "CAPTURE", "window outside the mapped file");
    return false;
  }
  offset = static_cast<size_t>(o);
  length = static_cast<size_t>(l);
  return true;
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) { ThrowCode(env, "CAPTURE", "mapFile(path)"); return env.Null(); }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    ThrowCode(env, e == ENOENT ? "NOT_FOUND" : (e == EACCES || e == EPERM) ? "PERMISSION" : "CAPTURE",
              "cannot open " + path + ": " + std::strerror(e));
    return env.Null();
  }
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    // FIFOs, devices and process substitutions have no size to map: the caller reads them.
    ThrowCode(env, "NOT_REGULAR", path + " is not a regular file");
    return env.Null();
  }
  auto* m = new Mapping();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void* p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      delete m;
      ThrowCode(env, "CAPTURE", "cannot map " + path + ": " + std::strerror(e));
      return env.Null();
    }
    m->base = static_cast<uint8_t*>(p);
    madvise(m->base, m->size, MADV_SEQUENTIAL);  // read-ahead, and drop pages behind us sooner
  }
  ::close(fd);  // the mapping keeps the file
  gLiveMappings.fetch_add(1);
  Napi::Object out = Napi::Object::New(env);
  m->refs.fetch_add(1);  // the handle's own reference
  out.Set("mapping", Napi::External<Mapping>::New(env, m, [](Napi::Env, Mapping* mm) { Unref(mm); }));
  out.Set("size", Napi::Number::New(env, static_cast<double>(m->size)));
  return out;
}

Napi::Value MapWindow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = MappingOf(info);
  size_t offset = 0, length = 0;
  if (m == nullptr || !Range(info, m, offset, length)) return env.Null();
  if (length == 0) return Napi::ArrayBuffer::New(env, 0);
  m->refs.fetch_add(1);
  gLiveWindows.fetch_add(1);
  napi_value ab = nullptr;
  const napi_status st = napi_create_external_arraybuffer(
      env, m->base + offset, length,
      [](napi_env, void*, void* hint) {
        gLiveWindows.fetch_sub(1);
        Unref(static_cast<Mapping*>(hint));
      },
      m, &ab);
  if (st != napi_ok) {
    gLiveWindows.fetch_sub(1);
    Unref(m);
    ThrowCode(env, "CAPTURE", "external ArrayBuffers are not allowed in this runtime");
    return env.Null();
  }
  return Napi::Value(env, ab);
}

Napi::Value ReleasePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = MappingOf(info);
  size_t offset = 0, length = 0;
  if (m == nullptr || !Range(info, m, offset, length)) return env.Undefined();
  // Whole pages inside the range only. A view that still points there reads the same
  // bytes again: a private read-only file mapping refaults from the page cache.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t start = (offset + page - 1) / page * page;
  const size_t end = (offset + length) / page * page;
  if (end > start) madvise(m->base + start, end - start, MADV_DONTNEED);
  return env.Undefined();
}

Napi::Value UnmapFile(const Napi::CallbackInfo& info) {
  Mapping* m = MappingOf(info);
  if (m != nullptr) {
    m->ownerReleased = true;
    // Windows still alive keep the mapping, but its pages leave this process now.
    if (m->base != nullptr) madvise(m->base, m->size, MADV_DONTNEED);
    Unref(m);
  }
  return info.Env().Undefined();
}

}  // namespace

Napi::Value MappedCounters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("mappings", Napi::Number::New(env, static_cast<double>(gLiveMappings.load())));
  out.Set("windows", Napi::Number::New(env, static_cast<double>(gLiveWindows.load())));
  out.Set("bytesCopied", Napi::Number::New(env, static_cast<double>(gBytesCopied.load(std::memory_order_relaxed))));
  return out;
}

void InitMappedFile(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("mapWindow", Napi::Function::New(env, MapWindow));
  exports.Set("releasePages", Napi::Function::New(env, ReleasePages));
  exports.Set("unmapFile", Napi::Function::New(env, UnmapFile));
  exports.Set("copyCounters", Napi::Function::New(env, MappedCounters));
}

}  // namespace migscope
