/* service.h: parcelsortd as a service: the modes that start nothing
 * (--check-config, --print-config, --keys), the log (level, file,
 * journal, DPDK's log routed into it), systemd's notifications (READY=1,
 * STATUS=, WATCHDOG=1, STOPPING=1 through libsystemd's sd_notify) and
 * SIGHUP (reopen the log, apply the live keys, name the others). main.c
 * calls these hooks; none runs on the worker path. */
#ifndef PS_SERVICE_H
#define PS_SERVICE_H

#include "daemon.h"

/* --check-config, --print-config or --keys anywhere in argv: do it and
 * return the exit code; -1: none of them, start as usual. */
int ps_service_mode(int argc, char **argv);
/* After the configuration is read, before EAL: the log level, the log
 * file, DPDK's log stream. -1 with the reason in err. */
int ps_service_log_setup(const struct ps_dp_config *cfg, char *err, size_t n);
/* SIGHUP's handler; the reload itself runs in ps_service_tick. */
void ps_service_signals(void);
/* Ports up, control socket listening, workers launched. */
void ps_service_ready(struct ps_daemon *d, int argc, char **argv);
/* Every turn of the control loop: the watchdog, STATUS=, a pending
 * reload. */
void ps_service_tick(struct ps_daemon *d);
/* The loop ended (a signal or --duration): STOPPING=1. */
void ps_service_stopping(void);

#endif
