#include "capture_session.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "flow_hash.h"

namespace migscope {

namespace {

constexpr uint16_t kLinkTypeUser0 = 147;  // synthetic records: never hashed

bool ParseMac(const std::string& s, uint8_t out[6]) {
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    return false;
  }
  for (int i = 0; i < 6; i++) out[i] = static_cast<uint8_t>(v[i]);
  return true;
}

OpenError ClassifyActivate(int rc) {
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return OpenError::NotFound;
    case PCAP_ERROR_PERM_DENIED: return OpenError::Permission;
    case PCAP_ERROR_PROMISC_PERM_DENIED: return OpenError::PromiscPermission;
    default: return OpenError::Other;
  }
}

}  // namespace

CaptureSession::~CaptureSession() {
  Stop();
  if (pcap_ != nullptr) pcap_close(pcap_);
}

bool CaptureSession::Open(OpenError& kind, std::string& message) {
  kind = OpenError::None;
  std::memcpy(wantMampid_, cfg_.mampid.data(), std::min(cfg_.mampid.size(), sizeof wantMampid_));  // NUL-padded field
  if (cfg_.kind == SourceKind::Synthetic) return true;
  char errbuf[PCAP_ERRBUF_SIZE] = {0};

  if (cfg_.kind == SourceKind::File) {
    pcap_ = pcap_open_offline_with_tstamp_precision(cfg_.target.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (pcap_ == nullptr) {
      kind = std::strstr(errbuf, "No such file") != nullptr ? OpenError::NotFound : OpenError::Other;
      message = errbuf;
      return false;
    }
  } else {
    // The socket keeps the namespace it was created in, so a helper thread can enter the
    // namespace, open the handle and leave; the capture thread then runs anywhere.
    auto openLive = [&]() {
      if (!cfg_.netns.empty()) {
        const std::string path = cfg_.netns.find('/') == std::string::npos ? "/var/run/netns/" + cfg_.netns : cfg_.netns;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
          kind = fd < 0 ? OpenError::NotFound : OpenError::Permission;
          message = "cannot enter network namespace " + path + ": " + std::strerror(errno);
          if (fd >= 0) ::close(fd);
          return;
        }
        ::close(fd);
      }
      pcap_ = pcap_create(cfg_.target.c_str(), errbuf);
      if (pcap_ == nullptr) { kind = OpenError::Other; message = errbuf; return; }
      pcap_set_snaplen(pcap_, cfg_.snaplen);
      pcap_set_promisc(pcap_, cfg_.promisc ? 1 : 0);
      pcap_set_buffer_size(pcap_, cfg_.bufferSize);
      pcap_set_timeout(pcap_, cfg_.timeoutMs);
      pcap_set_immediate_mode(pcap_, cfg_.immediate ? 1 : 0);
      pcap_set_tstamp_precision(pcap_, PCAP_TSTAMP_PRECISION_NANO);
      const int rc = pcap_activate(pcap_);
      if (rc < 0) {
        kind = ClassifyActivate(rc);
        message = std::string(pcap_statustostr(rc)) + ": " + pcap_geterr(pcap_);
        pcap_close(pcap_);
        pcap_ = nullptr;
        return;
      }
      if (cfg_.kind == SourceKind::DpmiIface) {
        // Join the MP's multicast group (or all multicast) instead of going promiscuous.
        packet_mreq mr{};
        mr.mr_ifindex = static_cast<int>(if_nametoindex(cfg_.target.c_str()));
        if (!cfg_.multicast.empty() && ParseMac(cfg_.multicast, mr.mr_address)) {
          mr.mr_type = PACKET_MR_MULTICAST;
          mr.mr_alen = 6;
        } else {
          mr.mr_type = PACKET_MR_ALLMULTI;
        }
        if (setsockopt(pcap_fileno(pcap_), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0 && !cfg_.promisc) {
          kind = OpenError::Other;
          message = std::string("PACKET_ADD_MEMBERSHIP failed: ") + std::strerror(errno);
        }
      }
    };
    if (cfg_.netns.empty()) {
      openLive();
    } else {
      std::thread t(openLive);
      t.join();
    }
    if (kind != OpenError::None) return false;
  }

  nanoTs_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
  linkType_ = pcap_datalink(pcap_);
  std::string filter = cfg_.filter;
  if (filter.empty() && cfg_.kind == SourceKind::DpmiIface) filter = "ether proto 0x0810";
  if (!filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(pcap_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      kind = OpenError::BadFilter;
      message = "bad capture filter \"" + filter + "\": " + pcap_geterr(pcap_);
      return false;
    }
    const int rc = pcap_setfilter(pcap_, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      kind = OpenError::BadFilter;
      message = std::string("pcap_setfilter: ") + pcap_geterr(pcap_);
      return false;
    }
  }
  return true;
}

void CaptureSession::Stop() {
  stop_.store(true, std::memory_order_release);
  if (pcap_ != nullptr) pcap_breakloop(pcap_);
  Join();
}

void CaptureSession::Join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void CaptureSession::Run() {
  if (cfg_.kind == SourceKind::Synthetic) {
    RunSynthetic();
  } else {
    RunPcap();
  }
  FinishRings();
}

void CaptureSession::RunPcap() {
  const bool file = cfg_.kind == SourceKind::File;
  auto lastStats = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_acquire)) {
    // Bounded batches so a stop request is seen even on a file or a busy link.
    const int n = pcap_dispatch(pcap_, 4096, &CaptureSession::Callback, reinterpret_cast<u_char*>(this));
    if (n == PCAP_ERROR_BREAK) break;
    if (n == PCAP_ERROR) { error_ = pcap_geterr(pcap_); break; }
    if (file && n == 0) break;  // end of file
    if (!file) {
      const auto now = std::chrono::steady_clock::now();
      if (now - lastStats > std::chrono::milliseconds(100)) { PollKernelStats(); lastStats = now; }
    }
  }
  if (!file) PollKernelStats();
}

void CaptureSession::PollKernelStats() {
  pcap_stat st{};
  if (pcap_stats(pcap_, &st) != 0) return;
  counters_.kernelRecv.store(st.ps_recv, std::memory_order_relaxed);
  counters_.kernelDrop.store(st.ps_drop, std::memory_order_relaxed);
  counters_.kernelIfDrop.store(st.ps_ifdrop, std::memory_order_relaxed);
}

void CaptureSession::Callback(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes) {
  reinterpret_cast<CaptureSession*>(user)->OnFrame(h, bytes);
}

void CaptureSession::OnFrame(const struct pcap_pkthdr* h, const uint8_t* bytes) {
  const uint32_t nrings = static_cast<uint32_t>(rings_.size());
  // DPMI measurement frames are unpacked on a dpmi-iface, and in files as the pure-TS
  // file source does (src/ingest/file-source.ts), so both paths see the same packets.
  const bool dpmiFrame = cfg_.kind == SourceKind::DpmiIface ||
                         (cfg_.kind == SourceKind::File && linkType_ == 1 && h->caplen >= 14 &&
                          ((uint32_t(bytes[12]) << 8) | bytes[13]) == kDpmiEtherType);
  if (dpmiFrame) {
    UnpackDpmiFrame(bytes, h->caplen, cfg_.mampid.empty() ? nullptr : wantMampid_, dpmiSeqs_, dpmi_,
                    [&](const DpmiRecord& r) {
                      RecordMeta m{1, r.wireLen, r.sec, r.psec, seq_++, r.nic, r.mampid};
                      Deliver(RingFor(FlowHash(r.bytes, r.caplen, 1), nrings), m, r.bytes, r.caplen);
                    });
    counters_.dpmiFrames.store(dpmi_.frames, std::memory_order_relaxed);
    counters_.dpmiLost.store(dpmi_.lostFrames, std::memory_order_relaxed);
    counters_.dpmiDup.store(dpmi_.duplicateFrames, std::memory_order_relaxed);
    counters_.dpmiMalformed.store(dpmi_.malformedFrames, std::memory_order_relaxed);
    counters_.dpmiFiltered.store(dpmi_.filteredRecords, std::memory_order_relaxed);
    return;
  }
  const uint64_t psec = nanoTs_ ? uint64_t(h->ts.tv_usec) * 1000u : uint64_t(h->ts.tv_usec) * 1000000u;
  RecordMeta m{static_cast<uint16_t>(linkType_), h->len, static_cast<uint64_t>(h->ts.tv_sec), psec, seq_++,
               nullptr, nullptr};
  Deliver(RingFor(FlowHash(bytes, h->caplen, linkType_), nrings), m, bytes, h->caplen);
}

void CaptureSession::Deliver(uint32_t ring, const RecordMeta& m, const uint8_t* bytes, uint32_t caplen) {
  counters_.packets.store(counters_.packets.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  counters_.bytes.store(counters_.bytes.load(std::memory_order_relaxed) + caplen, std::memory_order_relaxed);
  lastSec_ = m.sec;
  lastPsec_ = m.psec;
  RingWriter& w = rings_[ring];
  if (!cfg_.blockWhenFull) {
    w.Push(m, bytes, caplen);
  } else {
    // Files: the consumer sets the pace. Short sleeps, and a stop request ends the wait.
    while (!w.TryPush(m, bytes, caplen)) {
      if (stop_.load(std::memory_order_acquire)) { w.CountDrop(caplen); break; }
      counters_.blockedWaits.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  rings_[0].StoreFrontier(m.seq + 1);
}

void CaptureSession::RunSynthetic() {
  std::vector<uint8_t> buf(cfg_.synthMaxLen + 1);
  const uint32_t span = cfg_.synthMaxLen - cfg_.synthMinLen + 1;
  const uint32_t nrings = static_cast<uint32_t>(rings_.size());
  for (uint64_t s = 0; s < cfg_.synthCount && !stop_.load(std::memory_order_relaxed); s++) {
    const uint32_t len = cfg_.synthMinLen + static_cast<uint32_t>((s * 2654435761u) % span);
    for (uint32_t i = 0; i < len; i++) buf[i] = SyntheticPayloadByte(s, i);
    RecordMeta m{kLinkTypeUser0, len + 1000u, 1700000000u + s / 1000u, (s % 1000u) * 1000000000u, s, nullptr, nullptr};
    seq_ = s + 1;
    Deliver(static_cast<uint32_t>(s % nrings), m, buf.data(), len);
  }
}

void CaptureSession::FinishRings() {
  for (auto& r : rings_) r.PushEof(lastSec_, lastPsec_);
}

}  // namespace migscope
