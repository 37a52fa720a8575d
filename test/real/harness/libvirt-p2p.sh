#!/usr/bin/env bash
# Real libvirt peer-to-peer live migrations between two libvirtd "hosts" living in
# network namespaces joined by a veth pair (recipe: ../shared/real-peers.md).
#
#   libvirt-p2p.sh up    WORKDIR [tls]   create namespaces, start both libvirtd (tls: also
#                                          on 16514, with a CA and certificates made here)
#   libvirt-p2p.sh run   WORKDIR N       capture N good migrations + 1 that fails at prepare
#   libvirt-p2p.sh modes WORKDIR MODE..  one migration per mode (tls tunnelled parallel),
#                                          each in WORKDIR/MODE.pcap, truth in MODE.json
#   libvirt-p2p.sh down  WORKDIR         stop daemons, delete namespaces
#
# All traffic stays inside the two namespaces (addresses exist only there). Every wait
# is bounded. Outputs in WORKDIR: capture.pcap, truth.ndjson (one line per migration:
# the domjobinfo of the destination, or the failure message).
set -euo pipefail
cmd=${1:?up|run|down}
work=${2:?WORKDIR}
# Names unique per WORKDIR, so that two suites on one machine do not share namespaces.
tag=$(printf '%s' "$work" | md5sum | cut -c1-4)
H1=mgs-h1-$tag H2=mgs-h2-$tag V1=mgs-v1-$tag V2=mgs-v2-$tag
A1=192.168.77.1 A2=192.168.77.2

ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
virsh_on() { local n=$1 a=$2; shift 2; ns "$n" timeout 60 virsh -q -c "qemu+tcp://$a/system" "$@"; }

# A throw-away CA, and for each host a server certificate naming its address and a
# client certificate (p2p: the source's libvirtd is the destination's client), in the
# layout libvirt's pkipath reads: cacert.pem, servercert.pem, serverkey.pem,
# clientcert.pem, clientkey.pem.
make_pki() {
  local dir="$work/pki" ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes) n addr who
  mkdir -p "$dir"
  openssl req -x509 "${ec[@]}" -keyout "$dir/cakey.pem" -out "$dir/cacert.pem" -days 2 -subj "/CN=migscope libvirt CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  for pair in "$H1 $A1" "$H2 $A2"; do
    set -- $pair; n=$1 addr=$2
    mkdir -p "$work/$n/pki"; cp "$dir/cacert.pem" "$work/$n/pki/"
    for who in server client; do
      printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%sAuth\nsubjectAltName=IP:%s\n' \
        "$who" "$addr" > "$dir/$n-$who.ext"
      openssl req "${ec[@]}" -keyout "$work/$n/pki/${who}key.pem" -out "$dir/$n-$who.csr" -subj "/O=migscope/CN=$addr" 2>/dev/null
      openssl x509 -req -in "$dir/$n-$who.csr" -CA "$dir/cacert.pem" -CAkey "$dir/cakey.pem" -CAcreateserial \
        -out "$work/$n/pki/${who}cert.pem" -days 2 -extfile "$dir/$n-$who.ext" 2>/dev/null
    done
  done
}

start_host() {
  local n=$1 addr=$2 uuid=$3 base="$work/$1" tls=0
  [ -f "$base/pki/servercert.pem" ] && tls=1
  mkdir -p "$base"/{run,lib/qemu,lib/images,cache,log,etc}
  mkdir -p "$base"/lib/qemu/{save,snapshot,dump,ram,nvram,checkpoint,channel/target}
  cp -a /etc/libvirt/. "$base/etc/"
  cat > "$base/etc/libvirtd.conf" <<CONF
listen_tls = $tls
listen_tcp = 1
auth_tcp = "none"
listen_addr = "$addr"
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
unix_sock_dir = "/run/libvirt"
CONF
  if [ $tls = 1 ]; then printf 'ca_file = "%s"\ncert_file = "%s"\nkey_file = "%s"\n' \
    "$base/pki/cacert.pem" "$base/pki/servercert.pem" "$base/pki/serverkey.pem" >> "$base/etc/libvirtd.conf"; fi
  cat > "$base/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
cgroup_controllers = [ ]
stdio_handler = "file"
security_driver = "none"
namespaces = [ ]
migration_address = "$addr"
migration_host = "$addr"
CONF
  # A private mount namespace per host so both daemons have their own state dirs.
  # SSLKEYLOGFILE: GnuTLS writes the session secrets there, so that tshark (and only
  # tshark, the independent decoder) can read a TLS connection's RPC for the truth.
  ns "$n" unshare -m --propagation private sh -c "
    mount --bind '$base/run' /run/libvirt &&
    mount --bind '$base/lib' /var/lib/libvirt &&
    mount --bind '$base/etc' /etc/libvirt &&
    mount --bind '$base/cache' /var/cache/libvirt &&
    mount --bind '$base/log' /var/log/libvirt &&
    exec env SSLKEYLOGFILE='$base/tls-keys.log' libvirtd --listen --pid-file '$base/libvirtd.pid' --config /etc/libvirt/libvirtd.conf
  " > "$base/libvirtd.out" 2>&1 &
  local i
  for i in $(seq 1 100); do
    if ns "$n" timeout 5 virsh -q -c "qemu+tcp://$addr/system" version >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "libvirtd on $n did not come up:" >&2; cat "$base/libvirtd.out" "$base/log/libvirtd.log" >&2 2>/dev/null || true
  return 1
}

up() {
  local with=${1:-}
  mkdir -p "$work"
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  id libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
  ip netns add $H1; ip netns add $H2
  ip link add $V1 type veth peer name $V2
  ip link set $V1 netns $H1; ip link set $V2 netns $H2
  ns $H1 ip addr add $A1/24 dev $V1; ns $H2 ip addr add $A2/24 dev $V2
  for pair in "$H1 $V1" "$H2 $V2"; do
    set -- $pair
    ns "$1" ip link set lo up; ns "$1" ip link set "$2" up
    # MTU-size frames as on a real link (no TSO/GSO/GRO super-segments).
    ns "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
  done
  # The guest disk plays the shared storage: same path on both hosts.
  python3 - "$work/guest.img" <<'PY'
import sys
img = bytearray(1024 * 1024)
img[0:2] = b'\xeb\xfe'          # jmp $ : a guest that just runs
img[510:512] = b'\x55\xaa'
open(sys.argv[1], 'wb').write(img)
PY
  if [ "$with" = tls ]; then make_pki; fi
  start_host $H1 $A1 11111111-1111-4111-8111-111111111111
  start_host $H2 $A2 22222222-2222-4222-8222-222222222222
}

domain_xml() {
  local name=$1 uuid=$2 disk=${3:-$work/guest.img}
  cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='$disk'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

run() {
  local n=${1:-2} i
  ns $H1 tcpdump -i $V1 -s 0 -B 1048576 --time-stamp-precision=nano -U -w "$work/capture.pcap" tcp or icmp or arp > "$work/tcpdump.out" 2>&1 &
  echo $! > "$work/tcpdump.pid"
  # Migrate only once tcpdump captures (it says so on stderr); bounded at 30 s.
  for i in $(seq 1 300); do grep -q 'listening on' "$work/tcpdump.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$work/tcpdump.out" || { echo "tcpdump did not start" >&2; cat "$work/tcpdump.out" >&2; return 1; }
  sleep 0.2
  : > "$work/truth.ndjson"
  for i in $(seq 1 "$n"); do
    local dom="mgs-vm$i" uuid
    uuid=$(printf '00000000-0000-4000-8000-%012d' "$i")
    domain_xml "$dom" "$uuid" > "$work/$dom.xml"
    virsh_on $H1 $A1 define "$work/$dom.xml" >/dev/null
    virsh_on $H1 $A1 start "$dom" >/dev/null
    sleep 0.5
    virsh_on $H1 $A1 migrate --live --p2p --undefinesource --persistent --unsafe "$dom" "qemu+tcp://$A2/system"
    local info
    info=$(virsh_on $H2 $A2 domjobinfo "$dom" --completed | tr -s ' ' | sed 's/: /=/' | paste -sd';')
    printf '{"domain":"%s","uuid":"%s","outcome":"completed","jobinfo":"%s"}\n' "$dom" "$uuid" "$info" >> "$work/truth.ndjson"
    virsh_on $H2 $A2 destroy "$dom" >/dev/null
    virsh_on $H2 $A2 undefine "$dom" >/dev/null
    sleep 0.5
  done
  # A migration that fails at prepare: the destination already has an inactive domain
  # with the same name and another UUID.
  local dom=mgs-vmfail uuid=00000000-0000-4000-8000-999999999999
  domain_xml "$dom" "$uuid" > "$work/$dom.xml"
  domain_xml "$dom" 00000000-0000-4000-8000-888888888888 > "$work/$dom-clash.xml"
  virsh_on $H2 $A2 define "$work/$dom-clash.xml" >/dev/null
  virsh_on $H1 $A1 define "$work/$dom.xml" >/dev/null
  virsh_on $H1 $A1 start "$dom" >/dev/null
  sleep 0.5
  local err
  if err=$(virsh_on $H1 $A1 migrate --live --p2p --undefinesource --persistent --unsafe "$dom" "qemu+tcp://$A2/system" 2>&1); then
    echo "expected the clashing migration to fail" >&2; return 1
  fi
  err=$(printf '%s' "$err" | tr -d '"\n' )
  printf '{"domain":"%s","uuid":"%s","outcome":"failed","error":"%s"}\n' "$dom" "$uuid" "$err" >> "$work/truth.ndjson"
  virsh_on $H1 $A1 destroy "$dom" >/dev/null || true
  virsh_on $H1 $A1 undefine "$dom" >/dev/null || true
  virsh_on $H2 $A2 undefine "$dom" >/dev/null || true
  sleep 1
  kill -INT "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$(cat "$work/tcpdump.pid")" 2>/dev/null || break; sleep 0.1; done
  cat "$work/tcpdump.out" >&2
}

capture_start() {
  local pcap=$1 i
  # Not through ns(): $! must be tcpdump itself (ip netns exec execs it), to stop it.
  ip netns exec $H1 tcpdump -i $V1 -s 0 -B 1048576 --time-stamp-precision=nano -U -w "$pcap" tcp or icmp or arp > "$work/tcpdump.out" 2>&1 &
  echo $! > "$work/tcpdump.pid"
  for i in $(seq 1 300); do grep -q 'listening on' "$work/tcpdump.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$work/tcpdump.out" || { echo "tcpdump did not start" >&2; cat "$work/tcpdump.out" >&2; return 1; }
  sleep 0.2
}

capture_stop() {
  local i
  # libvirt's cleanup (finish3 reply → the connection's FIN) takes ~1.5 s with libvirt 9.0.
  sleep 3
  kill -INT "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$(cat "$work/tcpdump.pid")" 2>/dev/null || break; sleep 0.1; done
}

# One migration per mode, each captured on its own: tls (libvirt RPC over TLS, 16514),
# tunnelled (the QEMU stream inside the libvirt connection), parallel (multifd, 4
# channels). Truth: the source's completed job statistics, raw (exact figures).
modes() {
  local mode dom uuid i=0 uri flags
  for mode in "$@"; do
    i=$((i + 1))
    dom="mgs-$mode" uuid=$(printf '00000000-0000-4000-8000-1%011d' "$i")
    # auto-converge: the memory-dirtying guest (DIRTY_IMG, built by the test with nasm).
    if [ "$mode" = autoconverge ]; then domain_xml "$dom" "$uuid" "${DIRTY_IMG:?}" > "$work/$dom.xml"
    else domain_xml "$dom" "$uuid" > "$work/$dom.xml"; fi
    virsh_on $H1 $A1 define "$work/$dom.xml" >/dev/null
    virsh_on $H1 $A1 start "$dom" >/dev/null
    sleep 0.5
    uri="qemu+tcp://$A2/system" flags=()
    case $mode in
      tls) uri="qemu+tls://$A2/system?pkipath=$work/$H1/pki" ;;
      tunnelled) flags=(--tunnelled) ;;
      parallel) flags=(--parallel --parallel-connections 4) ;;
      autoconverge) flags=(--auto-converge --bandwidth 2 --timeout 120) ;;
      *) echo "unknown mode $mode" >&2; return 2 ;;
    esac
    capture_start "$work/$mode.pcap"
    # Not --undefinesource: the source keeps the domain, and with it the job's statistics.
    if [ "$mode" = autoconverge ]; then
      # A management client on the other host polls the job stats over TCP (on the
      # captured link): what migscope reads the throttle from, and the truth.
      ( for k in $(seq 1 600); do
          sleep 0.5
          ns $H2 timeout 10 virsh -q -c "qemu+tcp://$A1/system" domjobinfo "$dom" --rawstats 2>/dev/null | grep -E 'auto_converge_throttle|operation' | paste -sd' ' >> "$work/$mode.polls" || true
          [ -f "$work/$mode.done" ] && break
        done ) &
      local poller=$!
      ns $H1 timeout 150 virsh -q -c "qemu+tcp://$A1/system" migrate --live --p2p --persistent --unsafe "${flags[@]}" "$dom" "$uri" || { touch "$work/$mode.done"; wait $poller; return 1; }
      touch "$work/$mode.done"; wait $poller
    else
      virsh_on $H1 $A1 migrate --live --p2p --persistent --unsafe "${flags[@]}" "$dom" "$uri"
    fi
    capture_stop
    virsh_on $H1 $A1 domjobinfo "$dom" --completed --rawstats > "$work/$mode.jobinfo"
    virsh_on $H2 $A2 destroy "$dom" >/dev/null
    virsh_on $H2 $A2 undefine "$dom" >/dev/null
    virsh_on $H1 $A1 undefine "$dom" >/dev/null
  done
}

down() {
  local n
  for n in $H1 $H2; do
    if [ -f "$work/$n/libvirtd.pid" ]; then kill "$(cat "$work/$n/libvirtd.pid")" 2>/dev/null || true; fi
  done
  sleep 0.5
  # Any guest left behind (a failed run) must not outlive the test.
  pkill -f "qemu-system-x86_64.*$work/" 2>/dev/null || true
  for n in $H1 $H2; do
    if [ -f "$work/$n/libvirtd.pid" ]; then kill -9 "$(cat "$work/$n/libvirtd.pid")" 2>/dev/null || true; fi
    ip netns del $n 2>/dev/null || true
  done
}

"$cmd" "${@:3}"
