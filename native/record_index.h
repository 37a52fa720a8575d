// Record indexer for file workers (record_index.cc): walks the pcap records of a mapped
// capture file window and lists, as numbers, only the packets one worker owns.
#pragma once
#include <napi.h>

namespace migscope {

void InitRecordIndex(Napi::Env env, Napi::Object exports);

}  // namespace migscope
