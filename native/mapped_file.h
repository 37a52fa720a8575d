// Mapped capture files (mapped_file.cc) and the addon's copy counter.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>

namespace migscope {

// Packet bytes a capture path copied on their way to JS (the libpcap → ring path copies
// each packet once; the zero-copy paths never add to it). Tests assert it stays 0.
inline std::atomic<uint64_t> gBytesCopied{0};

void InitMappedFile(Napi::Env env, Napi::Object exports);

}  // namespace migscope
