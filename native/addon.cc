// migscope native addon: libpcap capture threads feeding SPSC rings in SharedArrayBuffers.
#include <napi.h>
#include <pcap/pcap.h>

namespace {

Napi::Value PcapVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pcapVersion", Napi::Function::New(env, PcapVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(migscope_native, Init)
