/* doctor.h: `parcelsortctl doctor`: is this host ready for parcelsortd?
 * (doctor.c) */
#ifndef PS_DOCTOR_H
#define PS_DOCTOR_H

/* argv[0] is "doctor"; options --root DIR (a tree standing for / : its
 * sys/, proc/, etc/ and var/), --state-dir DIR, --lcores LIST. Prints
 * each finding with its fix; EXIT_DONE when ready, EXIT_REFUSED when
 * not, EXIT_USAGE on bad options. */
int ctl_doctor(int argc, char **argv, int json);

#endif
