// One capture source feeding W rings from its own thread.
#pragma once
#include <pcap/pcap.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "dpmi_unpack.h"
#include "ring_writer.h"

namespace migscope {

enum class SourceKind { File, Iface, DpmiIface, Synthetic };

struct SessionConfig {
  SourceKind kind = SourceKind::File;
  std::string target;  // file path or interface name
  std::string filter;
  std::string netns;   // open the interface inside this network namespace (name or path)
  std::string mampid;  // DPMI: keep only this measurement point
  std::string multicast;  // DPMI: join this Ethernet multicast group (aa:bb:..)
  int snaplen = 262144;
  bool promisc = true;
  int bufferSize = 32 << 20;
  int timeoutMs = 50;
  bool immediate = false;
  bool blockWhenFull = false;  // files: wait for the consumer instead of dropping
  // Synthetic test producer: deterministic records, see SyntheticPayloadByte().
  uint64_t synthCount = 0;
  uint32_t synthMinLen = 0, synthMaxLen = 0;
};

// Error classes reported to JS (mapped to typed errors by src/ingest/live/native.ts).
enum class OpenError { None, NotFound, Permission, PromiscPermission, BadFilter, Other };

struct Counters {  // written by the capture thread, read by stats() on the JS thread
  std::atomic<uint64_t> packets{0}, bytes{0};
  std::atomic<uint64_t> kernelRecv{0}, kernelDrop{0}, kernelIfDrop{0};
  std::atomic<uint64_t> dpmiFrames{0}, dpmiLost{0}, dpmiDup{0}, dpmiMalformed{0}, dpmiFiltered{0};
  std::atomic<uint64_t> blockedWaits{0};
};

inline uint8_t SyntheticPayloadByte(uint64_t seq, uint32_t i) {
  return static_cast<uint8_t>((seq * 131u + i * 7u + (i >> 8)) & 0xffu);
}

class CaptureSession {
 public:
  CaptureSession(SessionConfig cfg, std::vector<RingWriter> rings)
      : cfg_(std::move(cfg)), rings_(std::move(rings)) {}
  ~CaptureSession();

  // Opens the source (synchronously; inside cfg.netns when set). On failure returns
  // false with kind and message set.
  bool Open(OpenError& kind, std::string& message);
  // Starts the capture thread; onEnd runs on that thread when it finishes.
  template <typename F> void Start(F&& onEnd) {
    thread_ = std::thread([this, onEnd]() mutable { Run(); onEnd(); });
  }
  void Stop();  // breakloop + join; idempotent
  void Join();

  const Counters& counters() const { return counters_; }
  const std::vector<RingWriter>& rings() const { return rings_; }
  const std::string& error() const { return error_; }  // set before onEnd, if any
  int linkType() const { return linkType_; }

 private:
  void Run();
  void RunPcap();
  void RunSynthetic();
  void OnFrame(const struct pcap_pkthdr* h, const uint8_t* bytes);
  void Deliver(uint32_t ring, const RecordMeta& m, const uint8_t* bytes, uint32_t caplen);
  void PollKernelStats();
  void FinishRings();
  static void Callback(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes);

  SessionConfig cfg_;
  std::vector<RingWriter> rings_;
  pcap_t* pcap_ = nullptr;
  int linkType_ = 1;
  bool nanoTs_ = true;
  uint64_t seq_ = 0;
  uint64_t lastSec_ = 0, lastPsec_ = 0;  // newest packet's wire time (for the EOF record)
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::string error_;
  Counters counters_;
  DpmiSequenceTracker dpmiSeqs_;
  DpmiCounters dpmi_;
  char wantMampid_[8] = {0};
};

}  // namespace migscope
