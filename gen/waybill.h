/* waybill.h: waybill numbers in the shapes of the major Chinese carriers'
 * barcodes, plus deliberately invalid ones for testing the validity rules. */
#ifndef PS_WAYBILL_H
#define PS_WAYBILL_H

#include <stdint.h>

#include "rng.h"
#include "ps_wire.h"

enum ps_carrier_id {
	PS_CAR_ZTO, PS_CAR_YTO, PS_CAR_YUNDA, PS_CAR_JT, PS_CAR_STO,
	PS_CAR_SF, PS_CAR_EMS, PS_CAR_JD, PS_CAR_COUNT
};

struct ps_carrier_shape {
	const char *name;     /* e.g. "ZTO" */
	char code[3];         /* carrier field letters, e.g. "ZT" */
	double share;         /* market share used when drawing */
};

extern const struct ps_carrier_shape ps_carriers[PS_CAR_COUNT];

/* Draw a carrier by market share. */
enum ps_carrier_id ps_carrier_draw(struct ps_rng *r);
/* Write a valid waybill of that carrier's shape (NUL-padded to 24). */
void ps_waybill_make(struct ps_rng *r, enum ps_carrier_id c,
		     uint8_t *wb);
/* Write an invalid waybill: a wrong S10 check digit, a bad character or a
 * too-short code, chosen at random. */
void ps_waybill_make_invalid(struct ps_rng *r, uint8_t *wb);
/* The carrier field value (two letters, first in the high byte). */
uint16_t ps_carrier_field(enum ps_carrier_id c);

#endif
