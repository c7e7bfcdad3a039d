/* ctl_commands.h: the one list of control commands. Every row is
 *   X(ID, fn, access, name, forms, help)
 * ID      the wire command is PS_CTL_<ID>; rows are numbered from 1 in the
 *         order they appear (the numbers are the protocol's: never
 *         reorder, only append);
 * fn      the lower-case name that the daemon's handler (cmd_<fn>), the
 *         text renderer (render_<fn>) and the CLI's request builder
 *         (cli_<fn>) carry;
 * access  RO (reads state) or RW (changes it);
 * name    the command's name in logs and errors;
 * forms   what an operator types: the leading lower-case words select
 *         the command, the rest is the synopsis; '|' separates spellings
 *         of one wire command ("route add ...|rule add ...");
 * help    one sentence for `parcelsortctl --help`.
 * The enum (ctl_proto.h), the name/access/help table (ctl_table.c), the
 * renderers (ctl_render.c), the daemon's dispatch (control/ctl_cmds.c) and
 * the CLI's parser (control/ctl_main.c) are all views of this list. */
#ifndef PS_CTL_COMMANDS_H
#define PS_CTL_COMMANDS_H

#define PS_CTL_COMMANDS(X) \
	X(STATUS, status, RO, "status", "status", \
	  "version, uptime, ports, plan, rates, memory") \
	X(PLAN_LOAD, plan_load, RW, "plan load", \
	  "plan load FILE [--at TIME]", \
	  "commit a plan now, or at TIME: \"YYYY-MM-DD HH:MM[:SS]\", " \
	  "\"HH:MM\" (next), \"+90s\", \"+15m\", \"+2h\" or \"@UNIX_SECONDS\"") \
	X(PLAN_DIFF, plan_diff, RO, "plan diff", "plan diff FILE", \
	  "hubs, routes, rules, chutes changed against the active plan") \
	X(PLAN_SHOW, plan_show, RO, "plan show", "plan show", \
	  "the active plan, as plan text") \
	X(PLAN_HISTORY, plan_history, RO, "plan history", "plan history", \
	  "the last 16 committed plans") \
	X(PLAN_ROLLBACK, plan_rollback, RW, "plan rollback", \
	  "plan rollback [VERSION]", \
	  "re-commit an earlier plan (default: the one before the active one)") \
	X(BEGIN, begin, RW, "begin", "begin", \
	  "open a transaction of staged edits") \
	X(EDIT, edit, RW, "edit", \
	  "route add PREFIX HUB CHUTES|rule add PRIORITY HUB CHUTES COND...|" \
	  "hub add HUB_ID TIER NAME...|default set HUB CHUTES", \
	  "stage a route, rule, hub or the default (replaces the one with " \
	  "that key)") \
	X(DELETE, delete, RW, "delete", \
	  "route del PREFIX|rule del PRIORITY|hub del HUB_ID|default del", \
	  "stage the removal of a route, rule, hub or the default") \
	X(COMMIT, commit, RW, "commit", "commit", \
	  "publish the staged edits") \
	X(ABORT, abort, RW, "abort", "abort", "drop the staged edits") \
	X(ROUTE_GET, route_get, RO, "route get", \
	  "route get REGION [--carrier XY] [--service F] [--weight G] " \
	  "[--size MM] [--device N] [--waybill W]", \
	  "which rule, route or default decides, and the chute") \
	X(CHUTE_LIST, chute_list, RO, "chute list", "chute list", \
	  "every chute in use: operator and sorter state, decided, sorted, " \
	  "missorted, not discharged, pieces per hour") \
	X(CHUTE_SET, chute_set, RW, "chute set", \
	  "chute disable N [N...]|chute enable N [N...]", \
	  "close or reopen chutes") \
	X(STATS, stats, RO, "stats", "stats [--watch [N]]", \
	  "counters (--watch: refresh every second, N times)") \
	X(STATS_RESET, stats_reset, RW, "stats reset", "stats reset", \
	  "start the counters from zero (a baseline)") \
	X(HOLD_ADD, hold_add, RW, "hold add", \
	  "hold add WAYBILL... [--note TEXT]", \
	  "hold waybills (at most 63): every scan of one is INTERCEPTED") \
	X(HOLD_DEL, hold_del, RW, "hold del", "hold del WAYBILL...", \
	  "release held waybills (at most 63)") \
	X(HOLD_LIST, hold_list, RO, "hold list", \
	  "hold list [--limit N] [--after WAYBILL]", \
	  "the hold count and revision, and the first N holds after " \
	  "WAYBILL in waybill order (default 1000, at most 100000)") \
	X(HOLD_LOAD, hold_load, RW, "hold load", "hold load FILE", \
	  "replace the whole hold list with FILE (WAYBILL[,NOTE] a line); " \
	  "a bad line refuses it whole") \
	X(HOLD_CLEAR, hold_clear, RW, "hold clear", "hold clear", \
	  "release every held waybill") \
	X(DEVICE_LIST, device_list, RO, "device list", \
	  "device list [--sort records|noread|bad] [--limit N]", \
	  "every scanner heard: records, NOREAD and BAD_BARCODE rates, " \
	  "malformed, duplicates, last heard") \
	X(CAPTURE_START, capture_start, RW, "capture start", \
	  "capture start FILE [--duration S] [--max-mb N] [--sample 1/K]", \
	  "write the request frames the workers receive to a new pcap " \
	  "FILE (never overwritten), until stopped, S seconds or N MB " \
	  "(default 1024); 1/K: every K-th frame") \
	X(CAPTURE_STOP, capture_stop, RW, "capture stop", "capture stop", \
	  "stop the running capture; its file is complete when this returns") \
	X(CAPTURE_STATUS, capture_status, RO, "capture status", \
	  "capture status", \
	  "running, file, frames captured, dropped and sampled out, of the " \
	  "request frames answered while it ran, bytes, elapsed, why it " \
	  "stopped") \
	X(MANIFEST_LOAD, manifest_load, RW, "manifest load", \
	  "manifest load FILE [--replace]", \
	  "add FILE's WAYBILL,REGION lines to the manifest (--replace: FILE " \
	  "becomes the whole manifest at once); a bad line refuses it whole") \
	X(MANIFEST_ADD, manifest_add, RW, "manifest add", \
	  "manifest add WAYBILL REGION", \
	  "add or replace one waybill's region in the manifest") \
	X(MANIFEST_DEL, manifest_del, RW, "manifest del", \
	  "manifest del WAYBILL...", \
	  "remove waybills from the manifest (at most 63)") \
	X(MANIFEST_GET, manifest_get, RO, "manifest get", \
	  "manifest get WAYBILL...", \
	  "the waybills' regions in the manifest, and when they lapse " \
	  "(at most 4096)") \
	X(MANIFEST_STATS, manifest_stats, RO, "manifest stats", \
	  "manifest stats", \
	  "entries, capacity, memory, hits and misses of barcode-only " \
	  "scans, oldest entry, refusals")

#endif
