{
  "targets": [
    {
      "target_name": "migscope_native",
      "sources": ["native/addon.cc", "native/capture_session.cc", "native/mapped_file.cc", "native/packet_ring.cc", "native/packet_ring_socket.cc", "native/record_index.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-exceptions", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["-lpcap"]
    }
  ]
}
