/* doctor.c: `parcelsortctl doctor`: checks, without a daemon, what a real
 * deployment of parcelsortd needs from the host, and prints each finding
 * with its fix: hugepages reserved and a hugetlbfs mounted (as
 * dpdk-hugepages.py sees them), network ports bound to vfio-pci with the
 * IOMMU on, the worker cores isolated (isolcpus / nohz_full), each port's
 * NUMA node against the worker cores', the CPU flags this build needs, and
 * the state directory's disk. Everything is read from /sys, /proc and
 * /etc/default/parcelsortd under --root (default /), so a test can hand it
 * a fake tree. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ctl_cli.h"
#include "doctor.h"

#define MAX_CPUS 1024
#define STATE_MIN_MB 512       /* plans, history, holds, a 256 MB spool */

struct doctor {
	const char *root;
	const char *state_dir;
	const char *lcores;        /* EAL -l list; NULL: from /etc/default */
	char lcores_buf[256];
	int json, problems, shown;
	unsigned char isolated[MAX_CPUS];
	unsigned char workers[MAX_CPUS];
	int n_workers;
	int worker_node;           /* -1: unknown or mixed */
};

static void path_of(const struct doctor *d, char *out, size_t n,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void path_of(const struct doctor *d, char *out, size_t n,
		    const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(out, n, "%s%s", d->root, rel);
}

/* The first line of a file under the root, without its newline. */
static int read_line(const struct doctor *d, const char *rel, char *out,
		     size_t n)
{
	char p[PATH_MAX];
	path_of(d, p, sizeof(p), "%s", rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	if (!fgets(out, (int)n, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\n")] = 0;
	return 0;
}

/* One finding: ok or not, what was seen, and the fix when not. */
static void finding(struct doctor *d, int ok, const char *what,
		    const char *seen, const char *fix)
{
	if (!ok)
		d->problems++;
	if (d->json) {
		printf("%s{\"check\":\"%s\",\"ok\":%s,\"seen\":\"", d->shown ?
		       "," : "[", what, ok ? "true" : "false");
		for (const char *s = seen; *s; s++)
			printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
		printf("\",\"fix\":\"");
		for (const char *s = ok ? "" : fix; *s; s++)
			printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
		printf("\"}");
	} else {
		printf("%-4s %-10s %s\n", ok ? "ok" : "FIX", what, seen);
		if (!ok)
			printf("                fix: %s\n", fix);
	}
	d->shown++;
}

/* A CPU list ("0-3,8,10-11") into a set; the count, -1 when bad. */
static int cpu_list(const char *s, unsigned char *set)
{
	int n = 0;
	memset(set, 0, MAX_CPUS);
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (a < 0 || b < a || b >= MAX_CPUS)
			return -1;
		for (long i = a; i <= b; i++)
			n += !set[i], set[i] = 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return n;
}

static void check_hugepages(struct doctor *d)
{
	char p[PATH_MAX], line[128], seen[256] = "";
	unsigned long long total_kb = 0;
	path_of(d, p, sizeof(p), "/sys/kernel/mm/hugepages");
	DIR *dir = opendir(p);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		unsigned long kb, nr;
		char rel[512];
		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		snprintf(rel, sizeof(rel), "/sys/kernel/mm/hugepages/%s/"
			 "nr_hugepages", e->d_name);
		if (read_line(d, rel, line, sizeof(line)) ||
		    sscanf(line, "%lu", &nr) != 1 || !nr)
			continue;
		size_t k = strlen(seen);
		snprintf(seen + k, sizeof(seen) - k, "%s%lu x %lu kB",
			 k ? ", " : "", nr, kb);
		total_kb += (unsigned long long)nr * kb;
	}
	if (dir)
		closedir(dir);
	char msg[320];
	snprintf(msg, sizeof(msg), "%s reserved (%.1f GB)",
		 total_kb ? seen : "no hugepages", total_kb / 1048576.0);
	finding(d, total_kb >= 1048576, "hugepages", msg,
		"reserve at least 1 GB: dpdk-hugepages.py --setup 2G, and "
		"for every boot vm.nr_hugepages=1024 in /etc/sysctl.d/ or "
		"hugepages=1024 on the kernel command line");
	/* a hugetlbfs mount for the EAL */
	path_of(d, p, sizeof(p), "/proc/mounts");
	FILE *f = fopen(p, "r");
	char mnt[512] = "", l[1024];
	while (f && fgets(l, sizeof(l), f)) {
		char dev[256], dir_[256], type[64];
		if (sscanf(l, "%255s %255s %63s", dev, dir_, type) == 3 &&
		    !strcmp(type, "hugetlbfs")) {
			snprintf(mnt, sizeof(mnt), "hugetlbfs at %s", dir_);
			break;
		}
	}
	if (f)
		fclose(f);
	finding(d, mnt[0] != 0, "hugetlbfs", mnt[0] ? mnt : "not mounted",
		"dpdk-hugepages.py --mount (mount -t hugetlbfs nodev "
		"/dev/hugepages), or an fstab line for it");
}

static int is_dpdk_driver(const char *drv)
{
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "uio_pci_generic") ||
	       !strcmp(drv, "igb_uio");
}

/* The workers' NUMA node: the node of each worker core (cpuN/nodeM). */
static void worker_nodes(struct doctor *d)
{
	d->worker_node = -2;           /* none seen yet */
	for (int c = 0; c < MAX_CPUS; c++) {
		if (!d->workers[c])
			continue;
		char p[PATH_MAX];
		path_of(d, p, sizeof(p), "/sys/devices/system/cpu/cpu%d", c);
		DIR *dir = opendir(p);
		struct dirent *e;
		int node = -1;
		while (dir && (e = readdir(dir)))
			if (sscanf(e->d_name, "node%d", &node) == 1)
				break;
		if (dir)
			closedir(dir);
		if (d->worker_node == -2)
			d->worker_node = node;
		else if (d->worker_node != node)
			d->worker_node = -1;
	}
}

static void check_ports(struct doctor *d)
{
	char p[PATH_MAX], seen[512] = "", numa[512] = "";
	int bound = 0, nics = 0, numa_bad = 0;
	path_of(d, p, sizeof(p), "/sys/bus/pci/devices");
	DIR *dir = opendir(p);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		char rel[512], line[64], link[PATH_MAX], lp[PATH_MAX];
		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/class",
			 e->d_name);
		if (read_line(d, rel, line, sizeof(line)) ||
		    strncmp(line, "0x02", 4))
			continue;          /* not a network controller */
		nics++;
		path_of(d, lp, sizeof(lp), "/sys/bus/pci/devices/%s/driver",
			e->d_name);
		ssize_t k = readlink(lp, link, sizeof(link) - 1);
		const char *drv = "none";
		if (k > 0) {
			link[k] = 0;
			drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		}
		size_t s = strlen(seen);
		snprintf(seen + s, sizeof(seen) - s, "%s%s (%s)", s ? ", " : "",
			 e->d_name, drv);
		if (!is_dpdk_driver(drv))
			continue;
		bound++;
		int node = -1;
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/numa_node",
			 e->d_name);
		if (!read_line(d, rel, line, sizeof(line)))
			node = atoi(line);
		s = strlen(numa);
		snprintf(numa + s, sizeof(numa) - s, "%s%s on node %d",
			 s ? ", " : "", e->d_name, node);
		if (node >= 0 && d->worker_node >= 0 && node != d->worker_node)
			numa_bad++;
	}
	if (dir)
		closedir(dir);
	char msg[600];
	snprintf(msg, sizeof(msg), "%d of %d network port%s bound to "
		 "vfio-pci%s%s", bound, nics, nics == 1 ? "" : "s",
		 nics ? ": " : "", seen);
	finding(d, bound > 0, "ports", msg,
		"modprobe vfio-pci; dpdk-devbind.py --bind=vfio-pci "
		"0000:03:00.0 (dpdk-devbind.py --status lists the ports), and "
		"for every boot list it in /etc/dpdk/interfaces "
		"(pci 0000:03:00.0 vfio-pci)");
	/* the IOMMU: groups exist, or vfio's unsafe no-IOMMU mode */
	int groups = 0;
	path_of(d, p, sizeof(p), "/sys/kernel/iommu_groups");
	if ((dir = opendir(p))) {
		while ((e = readdir(dir)))
			groups += e->d_name[0] != '.';
		closedir(dir);
	}
	char noiommu[8] = "";
	read_line(d, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
		  noiommu, sizeof(noiommu));
	snprintf(msg, sizeof(msg), groups ? "on (%d IOMMU groups)" :
		 noiommu[0] == 'Y' ? "off, vfio in unsafe no-IOMMU mode"
				   : "off (no IOMMU groups)", groups);
	finding(d, groups > 0, "iommu", msg,
		"intel_iommu=on iommu=pt (AMD: amd_iommu=on) on the kernel "
		"command line: GRUB_CMDLINE_LINUX in /etc/default/grub, "
		"update-grub, reboot; and VT-d / AMD-Vi on in the firmware");
	if (!bound)
		return;
	if (d->worker_node < 0)
		snprintf(msg, sizeof(msg), "%s; worker cores on %s", numa,
			 d->worker_node == -1 ? "several nodes or unknown"
					      : "no node");
	else
		snprintf(msg, sizeof(msg), "%s; worker cores on node %d", numa,
			 d->worker_node);
	finding(d, !numa_bad, "numa", msg,
		"run the workers on the ports' node (lscpu -e lists each "
		"core's node; -l in /etc/default/parcelsortd), or move the NIC "
		"to a slot of the cores' node");
}

/* Just past the EAL's -l option in a line: "-l" as a word of its own
 * (not the "-l" inside --log-level or --lcores), or NULL. */
static char *lcores_option(char *l)
{
	for (char *o = strstr(l, "-l"); o; o = strstr(o + 2, "-l")) {
		char before = o == l ? ' ' : o[-1];
		if (before != ' ' && before != '\t' && before != '"' &&
		    before != '\'' && before != '=')
			continue;
		if (o[2] == ' ' || (o[2] >= '0' && o[2] <= '9'))
			return o + 2;
	}
	return NULL;
}

/* The EAL's -l list from /etc/default/parcelsortd (EAL_ARGS="-l 0-3"). */
static const char *default_lcores(struct doctor *d)
{
	char p[PATH_MAX], l[512];
	path_of(d, p, sizeof(p), "/etc/default/parcelsortd");
	FILE *f = fopen(p, "r");
	const char *found = NULL;
	while (f && fgets(l, sizeof(l), f)) {
		if (l[0] == '#' || !strstr(l, "EAL_ARGS"))
			continue;
		char *o = lcores_option(l);
		if (!o)
			continue;
		o += strspn(o, " ");
		size_t n = strspn(o, "0123456789,-");
		snprintf(d->lcores_buf, sizeof(d->lcores_buf), "%.*s", (int)n, o);
		found = d->lcores_buf;
	}
	if (f)
		fclose(f);
	return found;
}

static void check_cores(struct doctor *d)
{
	char line[4096] = "", cmdline[4096] = "", msg[600];
	unsigned char lc[MAX_CPUS];
	read_line(d, "/sys/devices/system/cpu/isolated", line, sizeof(line));
	int n_iso = cpu_list(line, d->isolated);
	if (n_iso < 0)
		n_iso = 0;
	read_line(d, "/proc/cmdline", cmdline, sizeof(cmdline));
	int nohz = strstr(cmdline, "nohz_full=") != NULL;
	const char *list = d->lcores ? d->lcores : default_lcores(d);
	int n_lc = list ? cpu_list(list, lc) : -1;
	d->n_workers = 0;
	memset(d->workers, 0, sizeof(d->workers));
	int first = 1, not_iso = 0;
	for (int c = 0; n_lc > 0 && c < MAX_CPUS; c++) {
		if (!lc[c])
			continue;
		if (first) {           /* the main lcore: the control loop */
			first = 0;
			continue;
		}
		d->workers[c] = 1;
		d->n_workers++;
		not_iso += !d->isolated[c];
	}
	if (n_lc <= 0) {
		snprintf(msg, sizeof(msg), "isolated: %s; no -l in "
			 "/etc/default/parcelsortd to check the workers against",
			 n_iso ? line : "none");
		finding(d, n_iso > 0 && nohz, "cores", msg,
			"isolate the worker cores: isolcpus=2-5 nohz_full=2-5 "
			"rcu_nocbs=2-5 on the kernel command line, and "
			"EAL_ARGS=\"-l 1-5\" in /etc/default/parcelsortd");
		return;
	}
	snprintf(msg, sizeof(msg), "%d worker core%s (-l %s: all but the "
		 "first, the main lcore), %d not isolated; isolated: %s%s",
		 d->n_workers, d->n_workers == 1 ? "" : "s", list, not_iso,
		 n_iso ? line : "none", nohz ? ", nohz_full" : ", no nohz_full");
	finding(d, d->n_workers > 0 && !not_iso && nohz, "cores", msg,
		"isolate every worker core: isolcpus=LIST nohz_full=LIST "
		"rcu_nocbs=LIST on the kernel command line with the cores of "
		"-l but its first, and at least two cores in -l");
}

static void check_cpu_flags(struct doctor *d)
{
	static const char *const need[] = {
#if defined(__x86_64__)
		"sse4_2",
#endif
#ifdef __AVX__
		"avx",
#endif
#ifdef __AVX2__
		"avx2",
#endif
#ifdef __AVX512F__
		"avx512f",
#endif
		NULL,
	};
	char p[PATH_MAX], l[8192], missing[256] = "";
	int have_flags = 0;
	path_of(d, p, sizeof(p), "/proc/cpuinfo");
	FILE *f = fopen(p, "r");
	while (f && fgets(l, sizeof(l), f)) {
		if (strncmp(l, "flags", 5))
			continue;
		have_flags = 1;
		for (int i = 0; need[i]; i++) {
			char w[64];
			snprintf(w, sizeof(w), " %s", need[i]);
			char *at = strstr(l, w);
			size_t wl = strlen(w);
			if (!at || (at[wl] != ' ' && at[wl] != '\n' && at[wl])) {
				size_t k = strlen(missing);
				snprintf(missing + k, sizeof(missing) - k, "%s%s",
					 k ? " " : "", need[i]);
			}
		}
		break;
	}
	if (f)
		fclose(f);
	char msg[320], all[256] = "";
	for (int i = 0; need[i]; i++) {
		size_t k = strlen(all);
		snprintf(all + k, sizeof(all) - k, "%s%s", k ? " " : "", need[i]);
	}
	if (!need[0])
		snprintf(msg, sizeof(msg), "this build needs no special flag");
	else if (!have_flags)
		snprintf(msg, sizeof(msg), "no flags line in /proc/cpuinfo "
			 "(needs %s)", all);
	else if (missing[0])
		snprintf(msg, sizeof(msg), "missing %s (this build needs %s)",
			 missing, all);
	else
		snprintf(msg, sizeof(msg), "%s present", all);
	finding(d, !need[0] || (have_flags && !missing[0]), "cpu", msg,
		"run on a CPU with these flags, or build for this one "
		"(meson setup -Dc_args=-march=native ...)");
}

static void check_state(struct doctor *d)
{
	char p[PATH_MAX], probe[PATH_MAX], msg[PATH_MAX + 128];
	path_of(d, p, sizeof(p), "%s", d->state_dir);
	snprintf(probe, sizeof(probe), "%s", p);
	/* the directory, or the nearest parent that exists */
	while (access(probe, F_OK)) {
		char *s = strrchr(probe, '/');
		if (!s || s == probe) {
			snprintf(probe, sizeof(probe), "/");
			break;
		}
		*s = 0;
	}
	struct statvfs v;
	if (statvfs(probe, &v)) {
		snprintf(msg, sizeof(msg), "%s: cannot look at its disk",
			 d->state_dir);
		finding(d, 0, "state", msg, "create it: mkdir -p the directory");
		return;
	}
	double free_mb = (double)v.f_bavail * v.f_frsize / 1048576.0;
	int exists = !strcmp(probe, p);
	int writable = !access(probe, W_OK);
	snprintf(msg, sizeof(msg), "%s%s: %.0f MB free%s", d->state_dir,
		 exists ? "" : " (not there yet: its parent)", free_mb,
		 writable ? "" : ", not writable");
	finding(d, free_mb >= STATE_MIN_MB && writable, "state", msg,
		"at least 512 MB free and writable on the state directory's "
		"file system (plans, history, holds, and the event spool: "
		"256 MB by default)");
}

int ctl_doctor(int argc, char **argv, int json)
{
	static const struct option lo[] = {
		{ "root", required_argument, 0, 'r' },
		{ "state-dir", required_argument, 0, 's' },
		{ "lcores", required_argument, 0, 'l' },
		{ 0, 0, 0, 0 },
	};
	struct doctor d = { .root = "", .state_dir = "/var/lib/parcelsort",
			    .json = json };
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'r')
			d.root = strcmp(optarg, "/") ? optarg : "";
		else if (o == 's')
			d.state_dir = optarg;
		else if (o == 'l')
			d.lcores = optarg;
		else
			return ctl_bad_usage("doctor [--root DIR] "
					     "[--state-dir DIR] [--lcores LIST]");
	}
	if (optind < argc)
		return ctl_bad_usage("doctor: unexpected argument");
	check_hugepages(&d);
	check_cores(&d);
	worker_nodes(&d);
	check_ports(&d);
	check_cpu_flags(&d);
	check_state(&d);
	if (json)
		printf("]\n");
	else if (d.problems)
		printf("not ready: %d finding%s to fix\n", d.problems,
		       d.problems == 1 ? "" : "s");
	else
		printf("ready for parcelsortd\n");
	return d.problems ? EXIT_REFUSED : EXIT_DONE;
}
