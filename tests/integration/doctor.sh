#!/bin/sh
# doctor.sh: `parcelsortctl doctor` needs no daemon: on this host (a
# virtual machine without hugepages, vfio-pci or isolated cores) it finds
# what is missing, each with its fix, and exits 1; on a fake /sys and
# /proc tree of a ready server it exits 0; each single defect of that tree
# is found again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CTL="$BUILD/control/parcelsortctl"
T=$(mktemp -d /tmp/ps-doctor.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

"$CTL" doctor >"$T/host" 2>&1
rc=$?
check "this host: not ready, exit 1 (rc $rc)" '[ $rc -eq 1 ] && grep -q "^not ready: " "$T/host"'
check "this host: every finding has its fix" \
    '[ "$(grep -c "^FIX " "$T/host")" -ge 1 ] &&
     [ "$(grep -c "^FIX " "$T/host")" -eq "$(grep -c "^ *fix: " "$T/host")" ]'
if ! grep -q hugetlbfs /proc/mounts; then
    check "this host: no hugetlbfs mount found" 'grep -q "^FIX  hugetlbfs  not mounted" "$T/host"'
fi
if [ ! -s /sys/devices/system/cpu/isolated ]; then
    check "this host: no isolated cores found" 'grep -q "^FIX  cores .*isolated: none" "$T/host"'
fi
check "this host: the CPU flags this build needs are there" 'grep -q "^ok   cpu " "$T/host"'
"$CTL" --json doctor >"$T/host.json" 2>&1
check "--json: an array of findings" \
    'python3 -c "import json,sys; a=json.load(open(sys.argv[1])); assert a and all(\"ok\" in f and \"fix\" in f for f in a)" "$T/host.json"'
"$CTL" doctor --colour >/dev/null 2>&1
check "a bad option is a usage error (exit 2)" '[ $? -eq 2 ]'

# a ready server: 2 GB of hugepages mounted, one port on vfio-pci on node
# 0, IOMMU groups, cores 1-3 isolated with nohz_full, -l 0-3, this CPU's flags
R=$T/root
mkdir -p "$R/sys/kernel/mm/hugepages/hugepages-2048kB" "$R/proc" "$R/etc/default" \
    "$R/sys/bus/pci/drivers/vfio-pci" "$R/sys/bus/pci/drivers/ixgbe" \
    "$R/sys/kernel/iommu_groups/12" "$R/sys/devices/system/cpu" \
    "$R/var/lib/parcelsort" "$R/sys/bus/pci/devices/0000:03:00.0" \
    "$R/sys/bus/pci/devices/0000:03:00.1" "$R/sys/bus/pci/devices/0000:00:1f.0"
echo 1024 >"$R/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
echo "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0" >"$R/proc/mounts"
echo "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt isolcpus=1-3 nohz_full=1-3" >"$R/proc/cmdline"
echo "1-3" >"$R/sys/devices/system/cpu/isolated"
for c in 0 1 2 3; do mkdir -p "$R/sys/devices/system/cpu/cpu$c/node0"; done
grep -m1 '^flags' /proc/cpuinfo >"$R/proc/cpuinfo"
echo 'EAL_ARGS="-l 0-3 -a 0000:03:00.0"' >"$R/etc/default/parcelsortd"
for d in 0000:03:00.0 0000:03:00.1; do
    echo 0x020000 >"$R/sys/bus/pci/devices/$d/class"
    echo 0 >"$R/sys/bus/pci/devices/$d/numa_node"
done
ln -s ../../../bus/pci/drivers/vfio-pci "$R/sys/bus/pci/devices/0000:03:00.0/driver"
ln -s ../../../bus/pci/drivers/ixgbe "$R/sys/bus/pci/devices/0000:03:00.1/driver"
echo 0x060100 >"$R/sys/bus/pci/devices/0000:00:1f.0/class"    # not a NIC

"$CTL" doctor --root "$R" >"$T/ready" 2>&1
rc=$?
check "fake ready tree: exit 0 (rc $rc)" '[ $rc -eq 0 ] && grep -q "^ready for parcelsortd" "$T/ready"'
[ $rc -eq 0 ] || cat "$T/ready"
check "fake ready tree: 2 GB of hugepages" 'grep -q "^ok   hugepages  1024 x 2048 kB reserved (2.0 GB)" "$T/ready"'
check "fake ready tree: 1 of 2 ports on vfio-pci, the bridge not counted" \
    'grep -q "^ok   ports      1 of 2 network ports bound to vfio-pci" "$T/ready"'
check "fake ready tree: 3 workers isolated" 'grep -q "^ok   cores      3 worker cores .*0 not isolated" "$T/ready"'
check "fake ready tree: port and workers on node 0" 'grep -q "^ok   numa .*on node 0; worker cores on node 0" "$T/ready"'

# each defect alone is found
defect() {   # name, grep for the finding, command that breaks a copy of the tree
    rm -rf "$T/r2"; cp -a "$R" "$T/r2"
    eval "$3"
    "$CTL" doctor --root "$T/r2" >"$T/out" 2>&1
    rc=$?
    want=$2
    check "defect found: $1 (rc $rc)" '[ $rc -eq 1 ] && grep -q "$want" "$T/out"'
}
defect "no hugepages" "^FIX  hugepages" 'echo 0 >"$T/r2/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"'
defect "no hugetlbfs" "^FIX  hugetlbfs" ': >"$T/r2/proc/mounts"'
defect "port on its kernel driver" "^FIX  ports" \
    'ln -sfn ../../../bus/pci/drivers/ixgbe "$T/r2/sys/bus/pci/devices/0000:03:00.0/driver"'
defect "IOMMU off" "^FIX  iommu" 'rmdir "$T/r2/sys/kernel/iommu_groups/12"'
defect "a worker core not isolated" "^FIX  cores .*1 not isolated" 'echo "1-2" >"$T/r2/sys/devices/system/cpu/isolated"'
defect "port on the other node" "^FIX  numa " 'echo 1 >"$T/r2/sys/bus/pci/devices/0000:03:00.0/numa_node"'
defect "CPU without SSE4.2" "^FIX  cpu        missing sse4_2" 'echo "flags : fpu sse sse2" >"$T/r2/proc/cpuinfo"'
# the -l of EAL_ARGS is the option, not the "-l" inside --log-level
rm -rf "$T/r2"; cp -a "$R" "$T/r2"
echo 'EAL_ARGS="--log-level=lib.eal:info -l 0-3 -a 0000:03:00.0"' >"$T/r2/etc/default/parcelsortd"
"$CTL" doctor --root "$T/r2" >"$T/out" 2>&1
check "EAL_ARGS with --log-level before -l: its cores found" \
    'grep -q "^ok   cores      3 worker cores (-l 0-3" "$T/out"'
"$CTL" doctor --root "$R" --state-dir /var/lib/parcelsort/new >"$T/out" 2>&1
check "a state directory not there yet: its parent's disk" \
    'grep -q "^ok   state      /var/lib/parcelsort/new (not there yet: its parent)" "$T/out"'
