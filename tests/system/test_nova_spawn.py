# SPDX-License-Identifier: GPL-2.0-or-later
"""An instance spawned, destroyed and undefined the way OpenStack nova's
libvirt driver does it (nova/virt/libvirt/driver.py _create_guest,
guest.py launch/resume/poweroff/delete_configuration), with the XML nova
writes for an image with kernel and ramdisk properties and
[libvirt] images_type = raw: the guest fixture boots from it.

Left out of the XML for now: the <interface> (its tap and bridge need
the host side of nova's network agent; guests on bridges:
tests/system/test_interfaces.py, nova's bridge port:
tests/daemon/test_interfaces.py) and the config drive (a SATA CD-ROM).
The host-side calls are in tests/daemon/test_nova.py.
"""
import base64
import errno
import os
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

from sysfixtures import (BOOT_TIMEOUT, conn, daemon, dvh, events,  # noqa: F401
                         guest_dir, libvirt)


def nova_cache_mode(directory):
    """nova's disk cache mode: 'none' where the instance directory takes
    O_DIRECT, else 'writethrough' (tmpfs, for one)."""
    probe = directory / ".directio.test"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT))
        return "none"
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        return "writethrough"
    finally:
        probe.unlink(missing_ok=True)


def nova_xml(uuid, name, disk, console_log, cmd):
    g = guest_dir()
    dvcmd = base64.b64encode(cmd.encode()).decode()
    return f"""<domain type="kvm">
  <uuid>{uuid}</uuid>
  <name>{name}</name>
  <memory>262144</memory>
  <vcpu>1</vcpu>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="27.1.0"/>
      <nova:name>duvisor-1</nova:name>
      <nova:flavor name="m1.micro">
        <nova:memory>256</nova:memory>
        <nova:disk>1</nova:disk>
        <nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral>
        <nova:vcpus>1</nova:vcpus>
      </nova:flavor>
      <nova:root type="image" uuid="a1b2c3d4-e5f6-4711-8899-aabbccddeeff"/>
    </nova:instance>
  </metadata>
  <sysinfo type="smbios">
    <system>
      <entry name="manufacturer">OpenStack Foundation</entry>
      <entry name="product">OpenStack Nova</entry>
      <entry name="uuid">{uuid}</entry>
      <entry name="family">Virtual Machine</entry>
    </system>
  </sysinfo>
  <os>
    <type machine="pc">hvm</type>
    <kernel>{g / 'vmlinuz'}</kernel>
    <initrd>{g / 'initramfs.cpio.gz'}</initrd>
    <cmdline>console=ttyS0 quiet dvaction=wait dvcmd={dvcmd}</cmdline>
    <smbios mode="sysinfo"/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <vmcoreinfo/>
  </features>
  <clock offset="utc">
    <timer name="pit" tickpolicy="delay"/>
    <timer name="rtc" tickpolicy="catchup"/>
    <timer name="hpet" present="no"/>
  </clock>
  <cpu mode="host-model" match="exact">
    <topology sockets="1" cores="1" threads="1"/>
  </cpu>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="raw" cache="{nova_cache_mode(disk.parent)}"/>
      <source file="{disk}"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <serial type="pty">
      <log file="{console_log}" append="off"/>
    </serial>
    <graphics type="vnc" autoport="yes" listen="0.0.0.0"/>
    <video>
      <model type="virtio"/>
    </video>
    <input type="tablet" bus="usb"/>
    <rng model="virtio">
      <backend model="random">/dev/urandom</backend>
    </rng>
    <controller type="usb" index="0"/>
    <memballoon model="virtio">
      <stats period="10"/>
    </memballoon>
  </devices>
</domain>
"""


def wait_text(path, text):
    deadline = time.monotonic() + BOOT_TIMEOUT
    while not (path.exists() and text in path.read_text(errors="replace")):
        assert time.monotonic() < deadline, \
            path.read_text(errors="replace")[-3000:] if path.exists() else ""
        time.sleep(0.2)


def test_nova_spawn_destroy_undefine(daemon, conn, events, libvirt, tmp_path):
    lv = libvirt
    u = str(uuidlib.uuid4())
    name = "instance-00000007"
    disk = tmp_path / "disk"
    disk.write_bytes(b"\0" * (8 << 20))
    console_log = tmp_path / "console.log"
    cmd = "echo NOVA-DISK $(cat /sys/block/vda/size)"
    # _create_guest: defineXML, then launch paused while nova waits for
    # its ports' plug events, then resume.
    dom = conn.defineXML(nova_xml(u, name, disk, console_log, cmd))
    dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED)
    assert dom.state() == [lv.VIR_DOMAIN_PAUSED, lv.VIR_DOMAIN_PAUSED_USER]
    dom.resume()
    # get_info: state, memory, vCPUs, as nova's power-state sync reads.
    state, max_mem, mem, vcpus, _ = conn.lookupByUUIDString(u).info()
    assert (state, max_mem, mem, vcpus) == (lv.VIR_DOMAIN_RUNNING, 262144,
                                            262144, 1)
    wait_text(console_log, "DUVISOR-CMD-EXIT=0")
    assert "NOVA-DISK 16384" in console_log.read_text(errors="replace")
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.get("id") == str(dom.ID())
    assert root.find("devices/serial/source").get("path").startswith(
        "/dev/pts/")
    # What the VMM cannot give the guest yet is named in the domain log.
    log = (daemon.log_dir / f"{name}.log").read_text()
    for what in ("VNC graphics", "video devices"):
        assert f"warning: {what}: not given to the guest" in log, log
    # The balloon is given, with nova's statistics period.
    assert "--balloon=stats-period=10,free-page-reporting=on " in log.replace("'", ""), log
    # Guest.poweroff() and Guest.delete_configuration().
    dom.destroy()
    dom.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                      lv.VIR_DOMAIN_UNDEFINE_NVRAM)
    assert u not in [d.UUIDString() for d in conn.listAllDomains()]
    assert events.wait(name, 4) == [
        (lv.VIR_DOMAIN_EVENT_STARTED, lv.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (lv.VIR_DOMAIN_EVENT_SUSPENDED, lv.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (lv.VIR_DOMAIN_EVENT_RESUMED, lv.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (lv.VIR_DOMAIN_EVENT_STOPPED, lv.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
