/** The guest: libvirt domain XML and the `<qemu-migration>` cookies of a p2p migration. */
export interface GuestSpec {
  name: string;
  uuid: string;
  vcpus: number;
  ramBytes: number;
  mac: string;
  ip: string;
}

export function domainXml(g: GuestSpec): string {
  const kib = g.ramBytes / 1024;
  return `<domain type='kvm'>
  <name>${g.name}</name>
  <uuid>${g.uuid}</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="26.2.1"/>
      <nova:flavor name="m1.flavor"><nova:memory>${kib / 1024}</nova:memory><nova:vcpus>${g.vcpus}</nova:vcpus></nova:flavor>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>${kib}</memory>
  <currentMemory unit='KiB'>${kib}</currentMemory>
  <vcpu placement='static'>${g.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='host-model' check='partial'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/${g.uuid}/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='${g.mac}'/>
      <source bridge='brq0a1b2c3d-4e'/>
      <target dev='tap0a1b2c3d-4e'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><log file='/var/lib/nova/instances/${g.uuid}/console.log' append='off'/></serial>
    <graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'/>
    <video><model type='cirrus'/></video>
    <memballoon model='virtio'><stats period='10'/></memballoon>
  </devices>
</domain>
`;
}

export function migrationCookie(g: GuestSpec, hostname: string, hostUuid: string, withLockstate: boolean): string {
  return `<qemu-migration>
  <name>${g.name}</name>
  <uuid>${g.uuid}</uuid>
  <hostname>${hostname}</hostname>
  <hostuuid>${hostUuid}</hostuuid>
${withLockstate ? "  <lockstate driver='lockd'>\n    <leases>/var/lib/nova/instances/" + g.uuid + "/disk</leases>\n  </lockstate>\n" : ''}  <feature name='lockstate'/>
</qemu-migration>
`;
}
