/* regions.h: the real region code table (NBS 2023, data/regions/) loaded
 * into memory as a sorted array of 12-digit codes: every village, and every
 * township that has no village rows. */
#ifndef PS_REGIONS_H
#define PS_REGIONS_H

#include <stddef.h>
#include <stdint.h>

struct ps_regions {
	uint64_t *code;   /* sorted ascending */
	size_t n;
};

/* Load villages.txt.gz. Returns 0, or -1 with a message in err. */
int ps_regions_load(struct ps_regions *r, const char *path, char *err,
		    size_t errlen);
void ps_regions_free(struct ps_regions *r);
/* Default path of the bundled table (set at build time). */
const char *ps_regions_default_path(void);

#endif
